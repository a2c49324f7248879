/**
 * Relays connections between 127.0.0.1 and a Unix socket. DynamoDB Local listens on every
 * interface and has no option to change that, so it runs in a network namespace of its own
 * that has nothing but loopback; a relay inside that namespace listens on a socket file
 * (which both namespaces see) and one outside listens on 127.0.0.1 of ours.
 */
import { rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Listens on 127.0.0.1:`port` and connects each client to the Unix socket at `socketPath`. */
export function relayLoopbackToSocket(port: number, socketPath: string): Promise<Server> {
  return listen(
    createServer((client) => pipeBoth(client, connect(socketPath))),
    (server, done) => server.listen(port, '127.0.0.1', done),
  );
}

/** Listens on the Unix socket at `socketPath` and connects each client to 127.0.0.1:`port`. */
export function relaySocketToLoopback(socketPath: string, port: number): Promise<Server> {
  rmSync(socketPath, { force: true });
  return listen(
    createServer((client) => pipeBoth(client, connect(port, '127.0.0.1'))),
    (server, done) => server.listen(socketPath, done),
  );
}

function listen(
  server: Server,
  start: (server: Server, done: () => void) => void,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    start(server, () => resolve(server));
  });
}

function pipeBoth(left: Socket, right: Socket): void {
  left.pipe(right).pipe(left);
  const close = () => {
    left.destroy();
    right.destroy();
  };
  for (const socket of [left, right]) {
    socket.on('error', close);
    socket.on('close', close);
  }
}
