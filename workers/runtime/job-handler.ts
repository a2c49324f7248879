import type { JobMessage, StepProgress } from '../../core/contracts/jobs.js';

/** What a job handler reports when it returns. */
export type JobOutcome =
  | { readonly status: 'completed'; readonly resultLocation?: string }
  | { readonly status: 'failed'; readonly error: string; readonly resultLocation?: string }
  | { readonly status: 'cancelled'; readonly reason: string };

/** What a running job may do besides its own work. */
export interface JobContext {
  readonly workerId: string;
  /**
   * Aborted when the job must stop: cancel requested, deadline passed, or worker shutdown. Its
   * `reason` is a `JobStoppedError` (job-worker-errors.ts) whose `stopReason` says which. A
   * handler stops its work promptly and returns (any outcome: the worker records `cancelled`,
   * `failed: deadline exceeded`, or hands the message back on shutdown; a `completed` outcome
   * is recorded as completed whatever stopped it).
   */
  readonly signal: AbortSignal;
  /** Records one step's progress in the job store (the worker adds nothing to it). */
  recordStep(stepName: string, progress: StepProgress): Promise<void>;
  /**
   * Runs `cleanup` once the job's outcome is recorded (or its message handed back), beside the
   * worker's next job: work neither the outcome nor the next job need wait for, such as
   * restoring the job's worktree for reuse, so dispatchers learn of the end sooner and the
   * slot takes its next job at once. Clean-ups begin once the worker has started no job for
   * its `cleanupQuietMs` (within `CLEANUP_MAX_DEFER_MS` regardless): when many slots free up
   * together, the jobs that take them start first. Past one clean-up per slot, each further
   * one holds a slot until it ends; the worker waits for them all before it stops, and starts
   * those still waiting at once. A failing clean-up is logged. Clean-ups registered by a
   * handler that never returned run when it does.
   */
  afterOutcome(cleanup: () => Promise<void>): void;
}

/**
 * Does the work of one job type (discovery, task, ...). The worker runtime owns everything
 * around it: receiving, claiming, heartbeats, cancellation, recording the outcome, deleting
 * the message. A handler throws only for failures of the platform (the message then comes
 * back); a job that failed on its own merits returns `{ status: 'failed' }`.
 */
export type JobHandler = (message: JobMessage, context: JobContext) => Promise<JobOutcome>;
