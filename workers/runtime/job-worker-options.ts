import { z } from 'zod';
import { MAX_LONG_POLL_SECONDS } from '../../core/job-plane/queue-settings.js';
import type { JobQueue } from '../../core/ports/job-queue.js';
import type { JobStore } from '../../core/ports/job-store.js';
import type { JobHandler } from './job-handler.js';
import { JobWorkerOptionsError } from './job-worker-errors.js';
import { noJobWorkerMetrics, type JobWorkerMetrics } from './job-worker-metrics.js';
import type { WorkerLogger } from './worker-logger.js';

/** The slice of a queue a worker uses: receive, heartbeat, hand back, delete, and a start probe. */
export type JobWorkerQueue = Pick<
  JobQueue,
  'name' | 'receive' | 'changeVisibility' | 'delete' | 'depth'
>;

/**
 * The slice of the job store a worker uses: claim, heartbeat and give up jobs, record their
 * steps and outcome, and read them (the start probe, the cancel watcher).
 */
export type JobWorkerStore = Pick<
  JobStore,
  'get' | 'claim' | 'heartbeat' | 'release' | 'transition' | 'updateStep'
>;

/** Options of `JobWorker`. */
export interface JobWorkerOptions {
  /** Recorded as the job's `worker_id` (a pod name, with a suffix when a pod runs several). */
  readonly workerId: string;
  readonly queue: JobWorkerQueue;
  readonly jobs: JobWorkerStore;
  readonly handler: JobHandler;
  /** Jobs run at once, at most; receives ask for no more than the free slots. */
  readonly concurrency: number;
  /**
   * The queue's visibility timeout (`QUEUE_SETTINGS[queue].visibilityTimeoutSeconds`). The
   * worker receives with it explicitly and each heartbeat extends a message by it.
   */
  readonly visibilityTimeoutSeconds: number;
  /** Time between heartbeats of a running job; default a third of the visibility timeout. */
  readonly heartbeatIntervalMs?: number;
  /** How often a running job's record is read for a cancel request; default 1000 ms. */
  readonly cancelPollIntervalMs?: number;
  /**
   * Long polling wait of each receive, 1 to 20 s; default 20 (DESIGN.md section 5). Short
   * polling (0) is refused: an idle worker would spin on an empty queue.
   */
  readonly receiveWaitSeconds?: number;
  /**
   * How long `close()` lets running jobs finish before aborting them; default 20000 ms. A
   * receive in progress is never aborted (it finishes within `receiveWaitSeconds`), so the
   * pod's termination grace period must exceed `max(receiveWaitSeconds * 1000, shutdownGraceMs
   * + abortedJobWaitMs)` plus whatever the process closes after the worker.
   */
  readonly shutdownGraceMs?: number;
  /**
   * After aborting jobs at shutdown, how long to wait for their handlers to return before
   * handing their messages back regardless; default 5000 ms (step processes die within 2 s).
   */
  readonly abortedJobWaitMs?: number;
  /**
   * How long the worker must have started no job before the clean-ups of ended jobs
   * (`JobContext.afterOutcome`) begin, so that they do not compete with the jobs starting in
   * the slots that freed up together; they begin within `CLEANUP_MAX_DEFER_MS` regardless, at
   * once when waiting clean-ups hold the slot the next job needs, and at once when the worker
   * stops. Default 50 ms, at most 60000; 0 starts them at once.
   */
  readonly cleanupQuietMs?: number;
  readonly logger: WorkerLogger;
  readonly metrics?: JobWorkerMetrics;
  /** The wall clock, for deadlines and receive latency; injectable for tests. */
  readonly now?: () => Date;
}

/** {@link JobWorkerOptions} validated, with every default applied. */
export interface CompiledJobWorkerOptions {
  readonly workerId: string;
  readonly queue: JobWorkerQueue;
  readonly jobs: JobWorkerStore;
  readonly handler: JobHandler;
  readonly concurrency: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalMs: number;
  readonly cancelPollIntervalMs: number;
  readonly receiveWaitSeconds: number;
  readonly shutdownGraceMs: number;
  readonly abortedJobWaitMs: number;
  readonly cleanupQuietMs: number;
  readonly logger: WorkerLogger;
  readonly metrics: JobWorkerMetrics;
  readonly now: () => Date;
}

/** SQS's longest visibility timeout (12 hours). */
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** Node timers overflow past this many milliseconds (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

const milliseconds = z.number().int().min(0).max(MAX_TIMER_MS);

const dataSchema = z.object({
  workerId: z.string().trim().min(1).max(256),
  concurrency: z.number().int().min(1).max(1000),
  visibilityTimeoutSeconds: z.number().int().min(1).max(MAX_VISIBILITY_TIMEOUT_SECONDS),
  heartbeatIntervalMs: milliseconds.min(10).optional(),
  cancelPollIntervalMs: milliseconds.min(10).default(1000),
  receiveWaitSeconds: z.number().int().min(1).max(MAX_LONG_POLL_SECONDS).default(20),
  shutdownGraceMs: milliseconds.default(20_000),
  abortedJobWaitMs: milliseconds.default(5000),
  cleanupQuietMs: milliseconds.max(60_000).default(50),
});

/**
 * Validates `options` and applies defaults; a bad value is a {@link JobWorkerOptionsError}
 * naming the option. A heartbeat interval at or above the visibility timeout is refused: the
 * message would come back before the first beat.
 */
export function compileJobWorkerOptions(options: JobWorkerOptions): CompiledJobWorkerOptions {
  const parsed = dataSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') || 'options';
    throw new JobWorkerOptionsError(`invalid job worker option ${name}: ${issue?.message}`);
  }
  const data = parsed.data;
  const visibilityMs = data.visibilityTimeoutSeconds * 1000;
  const heartbeatIntervalMs = data.heartbeatIntervalMs ?? Math.floor(visibilityMs / 3);
  if (heartbeatIntervalMs >= visibilityMs) {
    throw new JobWorkerOptionsError(
      `invalid job worker option heartbeatIntervalMs: ${heartbeatIntervalMs} ms is not shorter ` +
        `than the visibility timeout (${data.visibilityTimeoutSeconds} s)`,
    );
  }
  const callable: Record<string, boolean> = {
    handler: typeof options.handler === 'function',
    'queue.receive': typeof options.queue?.receive === 'function',
    'jobs.transition': typeof options.jobs?.transition === 'function',
    'jobs.claim': typeof options.jobs?.claim === 'function',
    'logger.error': typeof options.logger?.error === 'function',
  };
  for (const [name, isFunction] of Object.entries(callable)) {
    if (!isFunction) {
      throw new JobWorkerOptionsError(`invalid job worker option ${name}: not a function`);
    }
  }
  return {
    ...data,
    workerId: data.workerId,
    heartbeatIntervalMs,
    queue: options.queue,
    jobs: options.jobs,
    handler: options.handler,
    logger: options.logger,
    metrics: options.metrics ?? noJobWorkerMetrics,
    now: options.now ?? (() => new Date()),
  };
}
