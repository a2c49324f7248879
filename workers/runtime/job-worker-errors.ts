import { ForgeError } from '../../core/errors.js';

/** The root of every error the worker runtime raises. */
export class JobWorkerError extends ForgeError {}

/** The options given to `JobWorker` are invalid; names the offending option. */
export class JobWorkerOptionsError extends JobWorkerError {}

/** A `JobWorker` method was called in a state that does not allow it (started twice, ...). */
export class JobWorkerStateError extends JobWorkerError {}

/**
 * The worker's backends (queue, job store) did not answer when it started, so it never began
 * receiving; `cause` holds the backend's error. Retryable: backends come up late in a pod.
 */
export class JobWorkerStartError extends JobWorkerError {
  constructor(backend: string, cause: unknown) {
    super(`the ${backend} did not answer at start`, { cause, retryable: true });
  }
}

/** Why a running job's signal was aborted. */
export const JobStopReason = {
  /** Someone asked for the job to be cancelled (the record's `cancel_requested`), or it ended. */
  cancelRequested: 'cancel-requested',
  /** The message's `deadline` passed; the job will be recorded failed. */
  deadlineExceeded: 'deadline-exceeded',
  /** The worker is shutting down past its grace period; the job goes back to the queue. */
  workerShutdown: 'worker-shutdown',
  /** Another worker took the job over (this one's heartbeat had lapsed); it finishes the job. */
  ownershipLost: 'ownership-lost',
} as const;
/** One of {@link JobStopReason}. */
export type JobStopReason = (typeof JobStopReason)[keyof typeof JobStopReason];

/**
 * The `reason` of an aborted {@link JobContext.signal}: handlers may read `stopReason` to say
 * why they stopped (a step process killed for cancellation rather than failure).
 */
export class JobStoppedError extends JobWorkerError {
  constructor(
    readonly jobId: string,
    readonly stopReason: JobStopReason,
  ) {
    super(`job ${jobId} stopped: ${stopReason}`);
  }
}
