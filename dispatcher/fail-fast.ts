import { errorMessage } from '../core/errors.js';
import { JobStatus } from '../core/statuses.js';
import { cancelRunJobs, type RunJobCanceller } from './cancel-run-jobs.js';
import {
  DispatchDeadlineError,
  DispatchedJobFailedError,
  DispatcherError,
} from './dispatcher-errors.js';
import { silentDispatcherLogger, type DispatcherLogger } from './dispatcher-logger.js';

/** A job of the run has failed already, so this dispatcher submitted nothing. */
export class RunAlreadyFailedError extends DispatcherError {
  constructor(
    readonly runId: string,
    readonly failedJobId: string,
  ) {
    super(`run ${runId} has failed already (job ${failedJobId}); nothing was submitted`);
  }
}

/** Options of {@link dispatchFailingFast}. */
export interface FailFastOptions {
  readonly jobs: RunJobCanceller;
  readonly runId: string;
  readonly logger?: DispatcherLogger | undefined;
}

/**
 * Runs a task, artifact or release dispatch so that a failure stops the run fast (DESIGN.md
 * section 5): Argo's `failFast` only stops scheduling dispatchers, so
 *
 * - when this dispatch fails because its job failed or overran its deadline, every other job
 *   of the run still pending or running is asked to stop, and their dispatchers then fail too;
 * - a dispatch that starts after a job of the run failed (a group wider than the workflow's
 *   parallelism schedules its last tasks late) submits nothing and fails with
 *   {@link RunAlreadyFailedError}: jobs not started are skipped.
 *
 * The dispatch's own error is always what is thrown; a failure to look at or cancel the run's
 * jobs is only logged, since it must not hide why the dispatch failed.
 */
export async function dispatchFailingFast(
  options: FailFastOptions,
  dispatch: () => Promise<void>,
): Promise<void> {
  const logger = options.logger ?? silentDispatcherLogger;
  const failedJobId = await findFailedJob(options, logger);
  if (failedJobId !== undefined) throw new RunAlreadyFailedError(options.runId, failedJobId);
  try {
    await dispatch();
  } catch (error) {
    const jobId = failedJobOf(error);
    if (jobId !== undefined) await cancelTheRest(options, logger, jobId, error);
    throw error;
  }
}

async function findFailedJob(
  options: FailFastOptions,
  logger: DispatcherLogger,
): Promise<string | undefined> {
  try {
    const records = await options.jobs.listByRun(options.runId);
    return records.find((record) => record.status === JobStatus.failed)?.job_id;
  } catch (error) {
    logger.warn("could not check the run's jobs before submitting; submitting anyway", {
      runId: options.runId,
      error: errorMessage(error),
    });
    return undefined;
  }
}

/** The job whose failure fails the run: a failed job, or one that overran its deadline. */
function failedJobOf(error: unknown): string | undefined {
  if (error instanceof DispatchedJobFailedError && error.status === JobStatus.failed) {
    return error.jobId;
  }
  if (error instanceof DispatchDeadlineError) return error.jobId;
  return undefined;
}

async function cancelTheRest(
  options: FailFastOptions,
  logger: DispatcherLogger,
  jobId: string,
  failure: unknown,
): Promise<void> {
  try {
    await cancelRunJobs({
      jobs: options.jobs,
      runId: options.runId,
      exceptJobId: jobId,
      reason: `job ${jobId} failed: ${errorMessage(failure)}`,
      logger,
    });
  } catch (error) {
    logger.error("could not request the cancellation of the run's other jobs", {
      runId: options.runId,
      jobId,
      error: errorMessage(error),
    });
  }
}
