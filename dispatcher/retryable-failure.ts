import {
  DispatchAbortedError,
  DispatchDeadlineError,
  DispatchedJobFailedError,
  DispatchedJobMissingError,
  DispatchInputError,
} from './dispatcher-errors.js';
import { RunAlreadyFailedError } from './fail-fast.js';

/**
 * Whether running the dispatcher again may succeed where this attempt failed, which decides its
 * exit code and so whether Argo retries its pod. Final: the job ended unsuccessfully (failed,
 * cancelled, past its deadline, vanished), the run had failed already, the dispatcher was
 * stopped and cancelled its job, or the input is invalid. Anything else (the job plane could
 * not be reached or answered with an error, a result could not be read or written) is a
 * failure of the dispatcher's surroundings: a retry attaches to the same job by its
 * deterministic id, so it never submits a job twice.
 */
export function isRetryableFailure(error: unknown): boolean {
  return !(
    error instanceof DispatchedJobFailedError ||
    error instanceof DispatchDeadlineError ||
    error instanceof DispatchAbortedError ||
    error instanceof DispatchedJobMissingError ||
    error instanceof RunAlreadyFailedError ||
    error instanceof DispatchInputError
  );
}
