/**
 * Child process of the embedded Postgres recovery test: starts a server on the data folder
 * given as its argument, prints the postmaster's PID and port as one JSON line, and then waits
 * for the test to kill it with SIGKILL, so no exit hook stops the server: the postmaster is
 * orphaned exactly as after a crash of `npm start`.
 */
import { EmbeddedPostgresServer } from '../../adapters/postgres/embedded-postgres-server.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: embedded-postgres-crashing-owner <data-dir>');
const server = await EmbeddedPostgresServer.start({ dataDir, durable: false });
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port })}\n`);
// Bounded: the test kills this process long before; a forgotten one still goes away.
setTimeout(() => void server.close(), 120_000);
