import { errorMessage } from '../../core/errors.js';
import type { JobStore } from '../../core/ports/job-store.js';
import { isTerminalJobStatus } from '../../core/statuses.js';
import { RepeatingTask } from './repeating-task.js';
import type { WorkerLogger } from './worker-logger.js';

/** Options of {@link startCancelWatcher}. */
export interface CancelWatcherOptions {
  readonly jobs: Pick<JobStore, 'get'>;
  readonly jobId: string;
  readonly intervalMs: number;
  /** Called once, when cancellation was requested or the job ended elsewhere. */
  readonly onCancel: () => void;
  readonly logger: WorkerLogger;
  readonly fields: Record<string, unknown>;
}

/**
 * Polls a running job's record and calls `onCancel` once its `cancel_requested` is set (fail
 * fast, `DELETE /v1/runs/{id}`) or it reached a terminal status through another writer; then
 * stops. A failed read is logged and tried again at the next interval.
 */
export function startCancelWatcher(options: CancelWatcherOptions): RepeatingTask {
  const { jobs, jobId, onCancel, logger, fields } = options;
  const watcher = new RepeatingTask(options.intervalMs, async () => {
    try {
      const record = await jobs.get(jobId);
      if (record === undefined) return 'continue';
      if (!record.cancel_requested && !isTerminalJobStatus(record.status)) return 'continue';
      onCancel();
      return 'stop';
    } catch (error) {
      logger.warn('could not read the job record to check for cancellation', {
        ...fields,
        error: errorMessage(error),
      });
      return 'continue';
    }
  });
  watcher.start();
  return watcher;
}
