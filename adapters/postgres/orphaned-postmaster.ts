import { readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../core/errors.js';
import { EmbeddedPostgresError } from './postgres-errors.js';

/** Where an embedded server's log lines about recovery go. */
export interface EmbeddedPostgresLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The file, beside the cluster folder, naming the process that started its server. */
export const OWNER_FILE = 'postmaster.owner';

/**
 * Signals that stop a postmaster, mildest first, each with how long to wait for it: smart
 * shutdown (waits for sessions to end), fast (ends them), immediate (no checkpoint; recovery on
 * the next start), and SIGKILL, which leaves shared memory behind for the next start to check.
 */
const STOP_SIGNALS = [
  { signal: 'SIGTERM', waitMs: 5_000 },
  { signal: 'SIGINT', waitMs: 10_000 },
  { signal: 'SIGQUIT', waitMs: 5_000 },
  { signal: 'SIGKILL', waitMs: 5_000 },
] as const;
/** How long the backends of a killed postmaster get to notice and exit. */
const BACKEND_EXIT_WAIT_MS = 5_000;
const POLL_MS = 50;

/** What {@link recoverOrphanedPostmaster} found and did. */
export const PostmasterRecovery = {
  /** No `postmaster.pid`: the last server stopped cleanly (or never ran). */
  clean: 'clean',
  /** The PID file names a process that is gone; Postgres replaces such a file itself. */
  staleLockFile: 'stale-lock-file',
  /** The PID file names a live process that is not this cluster's postmaster: it was removed. */
  lockFileRemoved: 'lock-file-removed',
  /** An orphaned postmaster of this cluster was running and has been stopped. */
  orphanStopped: 'orphan-stopped',
  /** The process could not be inspected (no `/proc`): nothing was touched. */
  unverified: 'unverified',
} as const;
/** One outcome of {@link recoverOrphanedPostmaster}. */
export type PostmasterRecovery = (typeof PostmasterRecovery)[keyof typeof PostmasterRecovery];

/** A process as `/proc` shows it; `undefined` fields could not be read. */
interface ProcessView {
  readonly state: string;
  readonly parentPid: number;
  readonly argv: readonly string[];
  readonly cwd: string | undefined;
  readonly executable: string | undefined;
}

/**
 * Makes the cluster in `clusterDir` startable after the process that ran its server died
 * without stopping it (SIGKILL, a crash), by reading the cluster's `postmaster.pid`:
 *
 * - the PID is alive and is a `postgres` whose data folder is this cluster (its command line's
 *   `-D`, or its working directory, which a postmaster moves into): when the process that
 *   started it (`postmaster.owner`, or without that file any parent but init) is still its
 *   parent, the server is in use and an {@link EmbeddedPostgresError} says by whom; otherwise it
 *   is an orphan and is stopped: SIGTERM, then SIGINT (fast shutdown), SIGQUIT, and SIGKILL as a
 *   last resort, each with a bounded wait;
 * - the PID is gone: nothing to do, since Postgres itself replaces a lock file whose process is
 *   gone, after checking that no process still uses the cluster's shared memory;
 * - the PID is alive but another process (the PID was reused): Postgres would refuse to start,
 *   so the file is removed, unless a `postgres` process still works in this cluster.
 *
 * No process other than this cluster's own postmaster is ever signalled. Everything done is
 * logged. Linux only: without `/proc`, nothing is touched.
 */
export async function recoverOrphanedPostmaster(
  clusterDir: string,
  logger: EmbeddedPostgresLogger,
): Promise<PostmasterRecovery> {
  const lockFile = join(clusterDir, 'postmaster.pid');
  const pid = await lockFilePid(lockFile);
  if (pid === undefined) return PostmasterRecovery.clean;
  const fields = { pid, clusterDir };
  const view = await inspect(pid);
  if (view === 'gone') {
    logger.info('embedded Postgres: postmaster.pid names a process that is gone', fields);
    return PostmasterRecovery.staleLockFile;
  }
  if (view === 'unknown') {
    logger.warn('embedded Postgres: cannot inspect the process postmaster.pid names', fields);
    return PostmasterRecovery.unverified;
  }
  const cluster = await realpath(clusterDir);
  if (!(await isPostmasterOf(view, cluster))) {
    const workers = await postgresProcessesIn(cluster);
    if (workers.length > 0) {
      throw new EmbeddedPostgresError(
        `postmaster.pid in ${clusterDir} names PID ${pid}, which is not its server, but ` +
          `postgres processes ${workers.join(', ')} still work in that folder; stop them first`,
      );
    }
    await rm(lockFile, { force: true });
    logger.warn('embedded Postgres: removed postmaster.pid naming an unrelated process', {
      ...fields,
      command: view.argv[0],
    });
    return PostmasterRecovery.lockFileRemoved;
  }
  const owner = await ownerPid(join(clusterDir, '..', OWNER_FILE));
  const inUse = owner === undefined ? view.parentPid !== 1 : view.parentPid === owner;
  if (inUse) {
    throw new EmbeddedPostgresError(
      `the embedded Postgres in ${clusterDir} (PID ${pid}) is in use by process ` +
        `${view.parentPid}, which started it; stop that process first`,
    );
  }
  logger.warn('embedded Postgres: stopping the server a crashed process left running', {
    ...fields,
    parentPid: view.parentPid,
  });
  const signal = await stopProcess(pid);
  if (signal === 'SIGKILL') await waitForBackends(cluster, pid);
  logger.info('embedded Postgres: stopped the orphaned server', { ...fields, signal });
  return PostmasterRecovery.orphanStopped;
}

/** The PID on the first line of `postmaster.pid`; `undefined` when there is no such file. */
async function lockFilePid(lockFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw new EmbeddedPostgresError(`cannot read ${lockFile}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  // An empty or torn file: the postmaster died while writing it, before it served anything.
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The PID `postmaster.owner` records; `undefined` when the file is missing or unreadable. */
async function ownerPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `view` is a `postgres` whose data folder is `cluster` (a resolved path). */
async function isPostmasterOf(view: ProcessView, cluster: string): Promise<boolean> {
  const program = view.executable ?? view.argv[0] ?? '';
  if (basename(program.replace(/ \(deleted\)$/, '')) !== 'postgres') return false;
  if (view.cwd === cluster) return true;
  const index = view.argv.indexOf('-D');
  const dataDir = index >= 0 ? view.argv[index + 1] : undefined;
  if (dataDir === undefined || !isAbsolute(dataDir)) return false;
  return (await realpath(dataDir).catch(() => dataDir)) === cluster;
}

/**
 * The process `pid` as `/proc` shows it: `gone` when it does not exist or is a zombie (it has
 * exited; only its parent has not collected it), `unknown` without `/proc`.
 */
async function inspect(pid: number): Promise<ProcessView | 'gone' | 'unknown'> {
  let stat: string;
  let cmdline: string;
  try {
    [stat, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ]);
  } catch (error) {
    if (!isCode(error, 'ENOENT') && !isCode(error, 'ESRCH')) return 'unknown';
    return (await hasProc()) ? 'gone' : 'unknown';
  }
  // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
  const [state = '', parent = ''] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(0, 2);
  if (state === 'Z' || state === 'X') return 'gone';
  return {
    state,
    parentPid: Number.parseInt(parent, 10),
    argv: cmdline.split('\0').filter((arg) => arg !== ''),
    cwd: await readlink(`/proc/${pid}/cwd`).catch(() => undefined),
    executable: await readlink(`/proc/${pid}/exe`).catch(() => undefined),
  };
}

/** Signals `pid` with each stop signal in turn until it is gone; the signal that did it. */
async function stopProcess(pid: number): Promise<NodeJS.Signals> {
  for (const { signal, waitMs } of STOP_SIGNALS) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if (isCode(error, 'ESRCH')) return signal;
      throw new EmbeddedPostgresError(`cannot signal the orphaned postmaster (PID ${pid})`, {
        cause: error,
      });
    }
    if (await waitUntil(async () => (await inspect(pid)) === 'gone', waitMs)) return signal;
  }
  throw new EmbeddedPostgresError(
    `the orphaned postmaster (PID ${pid}) did not stop, even on SIGKILL`,
  );
}

/** Waits for the backends of a killed postmaster, which exit when they notice it died. */
async function waitForBackends(cluster: string, postmasterPid: number): Promise<void> {
  const left = await waitUntil(
    async () => (await postgresProcessesIn(cluster)).length === 0,
    BACKEND_EXIT_WAIT_MS,
  );
  if (!left) {
    throw new EmbeddedPostgresError(
      `postgres processes of the killed postmaster (PID ${postmasterPid}) still run in ${cluster}`,
    );
  }
}

/** The live `postgres` processes whose working directory is `cluster`. */
async function postgresProcessesIn(cluster: string): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => undefined);
    if (cwd !== cluster) continue;
    const view = await inspect(Number(entry));
    if (typeof view === 'object' && (await isPostmasterOf(view, cluster)))
      found.push(Number(entry));
  }
  return found;
}

/** Polls `condition` until it holds or `timeoutMs` passed; whether it held. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

async function hasProc(): Promise<boolean> {
  return (await readlink('/proc/self/exe').catch(() => undefined)) !== undefined;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
