import { statSync } from 'node:fs';
import type { ChildSpawner, SpawnedChild } from '../../adapters/child-process/process-spawner.js';
import { sharedSpawner } from '../../adapters/child-process/spawner-pool.js';
import { errorMessage } from '../../core/errors.js';
import { StepProcessStartError } from './executor-errors.js';

import { DEFAULT_KILL_GRACE_MS, stopProcessGroup } from './process-group.js';

/** How long, once the group is gone, output pipes held by escaped processes may stay open. */
const PIPE_DRAIN_MS = 200;
/** `setTimeout`'s largest delay; longer timeouts are clamped to it (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** One process to run: what, where, with which environment (the complete environment). */
export interface ProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** How to watch and stop a {@link ProcessSpec}. */
export interface ProcessWatch {
  /** Milliseconds before the process group is stopped and the run `timed-out`; none if not finite. */
  readonly timeoutMs: number;
  /** Stops the process group when aborted; the run is then `cancelled`. */
  readonly signal: AbortSignal;
  /** Receives stdout and stderr, decoded as UTF-8, interleaved as they arrive. */
  readonly onOutput: (chunk: string) => void;
  /** Milliseconds between SIGTERM and SIGKILL; default {@link DEFAULT_KILL_GRACE_MS}. */
  readonly killGraceMs?: number;
  /** Starts the process; default the process's shared spawner for its purpose (see `sharedSpawner`). */
  readonly spawner?: ChildSpawner;
}

/** How a process run ended. */
export type ProcessEnding =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'signalled'; readonly signal: string }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'cancelled'; readonly reason: unknown };

/** What {@link runProcess} reports. */
export interface ProcessRunResult {
  readonly ending: ProcessEnding;
  /** The exit code when the process exited by itself; `null` when killed or never started. */
  readonly exitCode: number | null;
  readonly durationMs: number;
}

/**
 * Runs a process as the leader of its own process group (`detached`), streams its output, and
 * never leaves anything behind: on timeout or abort the whole group gets SIGTERM, then SIGKILL
 * after `killGraceMs`; when the leader exits by itself, any member still running (a background
 * `&` child) is stopped the same way before the run resolves. Resolves within `killGraceMs` plus
 * a few hundred milliseconds of a stop request. Rejects only with {@link StepProcessStartError}
 * when the process cannot start; an aborted signal before the start resolves `cancelled`.
 */
export async function runProcess(
  spec: ProcessSpec,
  watch: ProcessWatch,
): Promise<ProcessRunResult> {
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  if (watch.signal.aborted) {
    return {
      ending: { kind: 'cancelled', reason: watch.signal.reason },
      exitCode: null,
      durationMs: 0,
    };
  }
  assertDirectory(spec);
  const child = (watch.spawner ?? sharedSpawner('steps')).spawn({ ...spec, detached: true });
  const ending = await superviseGroup(child, spec, watch);
  return {
    ending,
    exitCode: ending.kind === 'exited' ? ending.exitCode : null,
    durationMs: elapsed(),
  };
}

/** Checked synchronously: one `stat` of a local folder, cheaper than a turn of the event loop. */
function assertDirectory(spec: ProcessSpec): void {
  try {
    if (!statSync(spec.cwd).isDirectory()) {
      throw new StepProcessStartError(spec.file, spec.cwd, 'the working folder is not a folder');
    }
  } catch (error) {
    if (error instanceof StepProcessStartError) throw error;
    throw new StepProcessStartError(spec.file, spec.cwd, errorMessage(error), { cause: error });
  }
}

/** Watches a spawned group until its leader has exited and the group and its pipes are gone. */
function superviseGroup(
  child: SpawnedChild,
  spec: ProcessSpec,
  watch: ProcessWatch,
): Promise<ProcessEnding> {
  const graceMs = watch.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return new Promise<ProcessEnding>((resolve, reject) => {
    let stopRequest: ProcessEnding | undefined;
    let exit: ProcessEnding | undefined;
    let stopping: Promise<void> | undefined;
    let pipesClosed = false;
    let settled = false;

    const forward = (chunk: string): void => {
      try {
        watch.onOutput(chunk);
      } catch {
        // A sink that throws loses its chunk; the step keeps running and is still supervised.
      }
    };
    child.on('output', (_stream, chunk) => forward(chunk));
    // The pid arrives from the spawn server; a stop asked for before then waits for it.
    const started = new Promise<number | undefined>((resolveStart) => {
      child.once('spawn', resolveStart);
      child.once('error', () => resolveStart(undefined));
    });

    const stopGroup = (): Promise<void> => {
      stopping ??= started.then((pid) =>
        pid === undefined ? undefined : stopProcessGroup(pid, graceMs),
      );
      return stopping;
    };
    const requestStop = (ending: ProcessEnding): void => {
      if (exit !== undefined || stopRequest !== undefined) return;
      stopRequest = ending;
      void stopGroup();
    };
    const onAbort = (): void => requestStop({ kind: 'cancelled', reason: watch.signal.reason });
    const timer = Number.isFinite(watch.timeoutMs)
      ? setTimeout(
          () => requestStop({ kind: 'timed-out' }),
          Math.min(Math.max(0, watch.timeoutMs), MAX_TIMER_MS),
        )
      : undefined;
    watch.signal.addEventListener('abort', onAbort, { once: true });
    const cleanUp = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      watch.signal.removeEventListener('abort', onAbort);
    };

    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(new StepProcessStartError(spec.file, spec.cwd, errorMessage(error), { cause: error }));
    });
    child.once('close', () => {
      pipesClosed = true;
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      exit =
        code !== null
          ? { kind: 'exited', exitCode: code }
          : { kind: 'signalled', signal: signal ?? 'unknown' };
      cleanUp();
      void stopGroup()
        .then(() => waitForPipes(child, () => pipesClosed))
        .then(() => {
          if (settled) return;
          settled = true;
          resolve(stopRequest ?? exit ?? { kind: 'signalled', signal: 'unknown' });
        });
    });
  });
}

/**
 * Waits briefly for stdout/stderr to close (the child's `close`, which usually follows its
 * exit at once); destroys them if a process outside the group holds them open.
 */
async function waitForPipes(child: SpawnedChild, closed: () => boolean): Promise<void> {
  if (closed()) return;
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    new Promise<boolean>((resolve) => child.once('close', () => resolve(true))),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PIPE_DRAIN_MS))),
  ]);
  clearTimeout(timer);
  if (!drained && !closed()) child.destroyPipes();
}
