import { errorMessage } from '../../core/errors.js';
import { ReceiptHandleInvalidError } from '../../core/job-plane/job-plane-errors.js';
import type { VisibilityExtender } from '../../core/ports/job-queue.js';
import { RepeatingTask } from './repeating-task.js';
import type { WorkerLogger } from './worker-logger.js';

/** Options of {@link startVisibilityHeartbeat}. */
export interface VisibilityHeartbeatOptions {
  /** The only part of the queue a heartbeat needs. */
  readonly extender: VisibilityExtender;
  readonly receiptHandle: string;
  /** Each beat hides the message for this long from now. */
  readonly visibilityTimeoutSeconds: number;
  /** Time between beats; well under the visibility timeout. */
  readonly intervalMs: number;
  readonly logger: WorkerLogger;
  /** Context for log lines (job id, message id, ...). */
  readonly fields: Record<string, unknown>;
}

/**
 * Keeps a message in flight while its job runs (DESIGN.md section 5), so a job longer than
 * the visibility timeout is not delivered twice. A failed beat is logged and tried again at
 * the next one; a receipt handle that is no longer valid means the message is lost to this
 * worker (its timeout ran out): that is logged and the heartbeat stops, the job runs on and
 * the job store's transition rules make the other delivery harmless. `stop()` waits for a
 * beat in progress, so no beat can hide the message after it was handed back.
 */
export function startVisibilityHeartbeat(options: VisibilityHeartbeatOptions): RepeatingTask {
  const { extender, receiptHandle, visibilityTimeoutSeconds, logger, fields } = options;
  const heartbeat = new RepeatingTask(options.intervalMs, async () => {
    try {
      await extender.changeVisibility(receiptHandle, visibilityTimeoutSeconds);
      return 'continue';
    } catch (error) {
      if (error instanceof ReceiptHandleInvalidError) {
        logger.warn('job message lost: its visibility timeout ran out before a heartbeat', {
          ...fields,
          error: errorMessage(error),
        });
        return 'stop';
      }
      logger.warn('heartbeat failed; trying again at the next beat', {
        ...fields,
        error: errorMessage(error),
      });
      return 'continue';
    }
  });
  heartbeat.start();
  return heartbeat;
}
