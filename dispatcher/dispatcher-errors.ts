import { ForgeError } from '../core/errors.js';
import type { JobStatus } from '../core/statuses.js';

/**
 * The root of the dispatcher's errors: every way a dispatch can end other than with a
 * completed job. The command line maps {@link DispatchInputError} to the usage exit code (2)
 * and every other one to failure (1).
 */
export class DispatcherError extends ForgeError {}

/** What the dispatcher was asked to submit is not a valid job (a bad flag value, bad steps). */
export class DispatchInputError extends DispatcherError {}

/** The job ended, but not `completed`: it failed or was cancelled; `reason` is its error. */
export class DispatchedJobFailedError extends DispatcherError {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
    readonly reason: string,
  ) {
    super(`job ${jobId} ${status}: ${reason}`);
  }
}

/** The job did not end before the dispatcher's deadline; its cancellation was asked for. */
export class DispatchDeadlineError extends DispatcherError {
  constructor(
    readonly jobId: string,
    readonly deadline: Date,
    readonly lastStatus: JobStatus,
    readonly cancelRequested: boolean,
  ) {
    super(
      `job ${jobId} was still ${lastStatus} at its deadline ${deadline.toISOString()}; ${cancelOutcome(cancelRequested)}`,
    );
  }
}

/** The dispatcher was stopped (SIGTERM from Argo) while waiting; cancellation was asked for. */
export class DispatchAbortedError extends DispatcherError {
  constructor(
    readonly jobId: string,
    reason: string,
    readonly cancelRequested: boolean,
  ) {
    super(`dispatch of job ${jobId} stopped (${reason}); ${cancelOutcome(cancelRequested)}`);
  }
}

/** The job's record vanished while the dispatcher was waiting for it (deleted or expired). */
export class DispatchedJobMissingError extends DispatcherError {
  constructor(readonly jobId: string) {
    super(`job ${jobId} has no record any more; it was deleted or expired while running`);
  }
}

/** A completed job's result could not be read or is not what its job type promises. */
export class DispatchResultError extends DispatcherError {}

function cancelOutcome(cancelRequested: boolean): string {
  return cancelRequested ? 'cancellation requested' : 'cancellation could not be requested';
}
