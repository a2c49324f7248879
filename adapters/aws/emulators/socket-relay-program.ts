/**
 * `socket-relay-program <socket-path> <tcp-port> <owner-pid>`: the relay that runs inside an
 * emulator's network namespace (see `socket-relay.ts`). It also guards against leaks: when
 * the process that started the emulator is gone (killed without a chance to stop it), the
 * relay ends its whole process group, the emulator included.
 */
import { relaySocketToLoopback } from './socket-relay.js';

const [socketPath, port, ownerPid] = process.argv.slice(2);
if (!socketPath || !port || !/^\d+$/.test(port) || !ownerPid || !/^\d+$/.test(ownerPid)) {
  process.stderr.write('usage: socket-relay-program <socket-path> <tcp-port> <owner-pid>\n');
  process.exit(2);
}
await relaySocketToLoopback(socketPath, Number(port));
setInterval(() => {
  try {
    process.kill(Number(ownerPid), 0);
  } catch {
    process.kill(0, 'SIGTERM');
  }
}, 1000);
