/**
 * `socket-relay-program <socket-path> <tcp-port>`: the relay that runs inside an emulator's
 * network namespace (see `socket-relay.ts`).
 */
import { relaySocketToLoopback } from './socket-relay.js';

const [socketPath, port] = process.argv.slice(2);
if (!socketPath || !port || !/^\d+$/.test(port)) {
  process.stderr.write('usage: socket-relay-program <socket-path> <tcp-port>\n');
  process.exit(2);
}
await relaySocketToLoopback(socketPath, Number(port));
