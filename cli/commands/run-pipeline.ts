import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadForgeEnvironment } from '../../config/forge-environment.js';
import { loadWorkerEnvironment } from '../../config/worker-environment.js';
import { RunStatus } from '../../core/statuses.js';
import type { EngineEvent } from '../../engine/run-outcome.js';
import { ExitCode } from '../run-cli.js';
import { LiveRunView } from '../run-view/live-run-view.js';
import { PlainRunReporter } from '../run-view/plain-run-reporter.js';
import type { RunObserver } from '../run-view/run-observer.js';
import { formatRunSummary } from '../run-view/run-summary.js';
import { resolveRunSource } from './run-source.js';

/** How often the view reads the run's job records while it runs. */
const PROGRESS_POLL_MS = 200;

/** The flags of `forge-pipeline run`. */
export interface RunFlags {
  branch?: string;
  commit: string;
  concurrency: number;
  dataDir?: string;
  secretsFile?: string;
  plain?: boolean;
}

/**
 * What `forge-pipeline run <repo-path>` does: runs a repository's pipeline in this process on
 * the embedded job plane, a discovery and a task pool and the in-process engine, shows its
 * progress and summary, and returns the exit code: 0 when the run succeeded, 1 when it failed
 * or was cancelled (Ctrl-C cancels; a second Ctrl-C leaves at once).
 */
export async function runPipeline(path: string, flags: RunFlags): Promise<number> {
  const forge = loadForgeEnvironment();
  const worker = loadWorkerEnvironment();
  const dataDirectory = resolve(flags.dataDir ?? forge.FORGE_DATA_DIR);
  const { run, notes } = await resolveRunSource(resolve(path), {
    commit: flags.commit,
    branch: flags.branch,
    snapshotDirectory: join(dataDirectory, 'snapshots'),
  });
  // Loaded once the source is known: a missing folder or commit fails without loading them.
  const [{ EmbeddedPipeline }, { EMBEDDED_BUCKETS }] = await Promise.all([
    import('../../engine/embedded-pipeline.js'),
    import('../../adapters/job-plane/embedded-job-plane.js'),
  ]);
  const live = flags.plain !== true && process.stdout.isTTY;
  const title = `Run ${run.runId}: ${run.repository} @ ${run.commit.slice(0, 12)}${run.branch ? ` (${run.branch})` : ''}`;
  let observer: RunObserver | undefined;
  const pipeline = await EmbeddedPipeline.start({
    dataDirectory,
    taskConcurrency: flags.concurrency,
    secretsFile: flags.secretsFile,
    // Only what the environment sets: the embedded pipeline picks its own defaults otherwise.
    forge: Object.fromEntries(
      Object.entries(forge).filter(([name]) => process.env[name] !== undefined),
    ),
    worker: { FORGE_STEP_DEFAULT_TIMEOUT: worker.FORGE_STEP_DEFAULT_TIMEOUT },
    onEvent: (event: EngineEvent) => observer?.onEvent(event),
  });
  const stopSignals = cancelOnInterrupt(() => pipeline.engine.cancel(run.runId));
  try {
    if (live) {
      observer = new LiveRunView({ title });
    } else {
      observer = new PlainRunReporter({ write: (text) => process.stdout.write(text) });
      process.stdout.write(`${title}\n`);
    }
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    await pipeline.engine.submit(run);
    const poller = setInterval(() => {
      void pipeline.plane.jobs.listByRun(run.runId).then(
        (records) => observer?.onRecords(records),
        () => undefined,
      );
    }, PROGRESS_POLL_MS);
    const outcome = await pipeline.engine.outcome(run.runId).finally(() => clearInterval(poller));
    await observer.close();
    const logs = join(dataDirectory, 'blobs', EMBEDDED_BUCKETS.logs);
    process.stdout.write(
      `\n${formatRunSummary(outcome, { logLocation: (key) => shortPath(join(logs, key)) })}`,
    );
    return outcome.status === RunStatus.success ? ExitCode.success : ExitCode.failure;
  } finally {
    stopSignals();
    await observer?.close();
    await pipeline.close();
  }
}

/**
 * The first Ctrl-C (or SIGTERM) cancels the run, which then ends and is summarised; a
 * second one exits at once. Returns the function that removes the handlers.
 */
function cancelOnInterrupt(cancel: () => Promise<void>): () => void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      process.stderr.write(`\n${signal} again: leaving without waiting\n`);
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\n${signal}: cancelling the run (again to leave at once)\n`);
    void cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** A path relative to the working directory when it lies under it, else absolute. */
function shortPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith('..') || isAbsolute(fromHere) ? path : fromHere;
}
