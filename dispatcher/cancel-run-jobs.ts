import { errorMessage } from '../core/errors.js';
import type { JobStore } from '../core/ports/job-store.js';
import { isTerminalJobStatus } from '../core/statuses.js';
import { silentDispatcherLogger, type DispatcherLogger } from './dispatcher-logger.js';

/** The slice of the job store that stopping a run's jobs needs. */
export type RunJobCanceller = Pick<JobStore, 'listByRun' | 'requestCancel'>;

/** Options of {@link cancelRunJobs}. */
export interface CancelRunJobsOptions {
  readonly jobs: RunJobCanceller;
  readonly runId: string;
  /** Why, for the log: the failed job, or the workflow's end. */
  readonly reason: string;
  /** A job to leave alone (the caller's own, already ended). */
  readonly exceptJobId?: string | undefined;
  readonly logger?: DispatcherLogger | undefined;
  /** Cancel requests in flight at once; default 8. */
  readonly concurrency?: number | undefined;
}

/** What {@link cancelRunJobs} did. */
export interface CancelRunJobsOutcome {
  /** Jobs whose cancellation was requested. */
  readonly cancelRequested: readonly string[];
  /** Jobs whose cancel request failed, with the reason. */
  readonly failed: readonly { readonly jobId: string; readonly error: string }[];
  /** Jobs of the run that had already ended, left as they are. */
  readonly alreadyEnded: number;
}

const DEFAULT_CONCURRENCY = 8;

/**
 * Asks every job of run `runId` that is still pending or running to stop (the worker running
 * one stops its step processes, a pending one is recorded cancelled when a worker receives it).
 * Argo's fail-fast only stops scheduling new dispatchers, so this is how a run's jobs already
 * in flight stop: after a job failed, and when the workflow ends unsuccessfully.
 *
 * Failing to list the run's jobs throws; a failed cancel request is logged and reported in
 * the outcome while the others go on. The run's jobs come from the store's run index, which
 * on DynamoDB is eventually consistent: a job created a moment ago may be missed, and its own
 * dispatcher then finds the run failed (see `dispatchFailingFast`).
 */
export async function cancelRunJobs(options: CancelRunJobsOptions): Promise<CancelRunJobsOutcome> {
  const { jobs, runId, reason } = options;
  const logger = options.logger ?? silentDispatcherLogger;
  const records = await jobs.listByRun(runId);
  const unfinished = records.filter(
    (record) => !isTerminalJobStatus(record.status) && record.job_id !== options.exceptJobId,
  );
  const cancelRequested: string[] = [];
  const failed: { jobId: string; error: string }[] = [];
  const queue = unfinished.map((record) => record.job_id);
  const worker = async (): Promise<void> => {
    for (let jobId = queue.shift(); jobId !== undefined; jobId = queue.shift()) {
      try {
        await jobs.requestCancel(jobId);
        cancelRequested.push(jobId);
      } catch (error) {
        failed.push({ jobId, error: errorMessage(error) });
        logger.warn('could not request the cancellation of a job of the run', {
          runId,
          jobId,
          error: errorMessage(error),
        });
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, queue.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  const outcome = {
    cancelRequested: cancelRequested.sort(),
    failed: failed.sort((left, right) => left.jobId.localeCompare(right.jobId)),
    alreadyEnded: records.filter(
      (record) => isTerminalJobStatus(record.status) && record.job_id !== options.exceptJobId,
    ).length,
  };
  logger.warn("cancellation of the run's unfinished jobs requested", {
    runId,
    reason,
    cancelRequested: outcome.cancelRequested.length,
    failed: outcome.failed.length,
  });
  return outcome;
}
