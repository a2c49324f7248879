import { errorMessage } from '../../core/errors.js';
import { ReceiptHandleInvalidError } from '../../core/job-plane/job-plane-errors.js';
import type { VisibilityExtender } from '../../core/ports/job-queue.js';
import type { JobStore } from '../../core/ports/job-store.js';
import { JobStatus } from '../../core/statuses.js';
import { RepeatingTask } from './repeating-task.js';
import type { WorkerLogger } from './worker-logger.js';

/**
 * When the message's visibility is first extended after the claim (unless a beat comes
 * sooner): late enough that a short job never pays for it, early enough that a worker dying
 * later cannot leave a redelivery finding the claim's heartbeat still fresh.
 */
const FIRST_EXTENSION_MS = 1000;

/** Options of {@link startJobHeartbeat}. */
export interface JobHeartbeatOptions {
  /** The only part of the queue a heartbeat needs. */
  readonly extender: VisibilityExtender;
  /** The only part of the job store a heartbeat needs. */
  readonly jobs: Pick<JobStore, 'heartbeat'>;
  readonly jobId: string;
  readonly workerId: string;
  readonly receiptHandle: string;
  /** Each beat hides the message for this long from now. */
  readonly visibilityTimeoutSeconds: number;
  /** Time between beats; well under the visibility timeout. */
  readonly intervalMs: number;
  /** Called once, when the record names another owner: the job was taken over. */
  readonly onOwnershipLost: () => void;
  readonly logger: WorkerLogger;
  /** Context for log lines (job id, message id, ...). */
  readonly fields: Record<string, unknown>;
}

/**
 * Keeps a claimed job's message in flight and its owner visibly alive while it runs (DESIGN.md
 * section 5), so a job longer than the visibility timeout is not delivered twice, and a
 * delivery that happens anyway (a lost extension, an at-least-once duplicate) finds a fresh
 * `heartbeat_at` and leaves the job alone.
 *
 * The message's visibility is extended once soon after the claim (so it counts from after
 * the heartbeat the claim recorded), then each beat first records the job's heartbeat, then
 * extends the visibility: a message can only become visible again more than a visibility
 * timeout after the last recorded heartbeat, so whoever receives it then sees the owner as
 * gone and takes the job over. (A worker dying within a second of its claim leaves the one
 * exception: the first redelivery may still find the claim fresh and leave the job, and the
 * next one takes it over.) A failed call is logged and tried at the next beat. A receipt
 * handle that is no longer valid means the message is lost to this worker: extensions stop
 * but heartbeats go on, keeping other deliveries off the running job. A record naming another
 * owner means the job was taken over: `onOwnershipLost` is called and the heartbeat stops.
 * `stop()` waits for a beat in progress, so no beat can hide the message after it was handed
 * back.
 */
export function startJobHeartbeat(options: JobHeartbeatOptions): RepeatingTask {
  const { jobs, jobId, workerId, logger, fields } = options;
  const visibility = new VisibilityExtension(options);
  const heartbeat = new RepeatingTask(
    options.intervalMs,
    async () => {
      try {
        const { owned, record } = await jobs.heartbeat(jobId, workerId);
        if (!owned && record.status === JobStatus.running) {
          logger.warn('job taken over by another worker; stopping it here', {
            ...fields,
            ownerId: record.worker_id,
          });
          options.onOwnershipLost();
          return 'stop';
        }
      } catch (error) {
        logger.warn('could not record the job heartbeat; trying again at the next beat', {
          ...fields,
          error: errorMessage(error),
        });
      }
      await visibility.extend();
      return 'continue';
    },
    { afterMs: FIRST_EXTENSION_MS, run: () => visibility.extend() },
  );
  heartbeat.start();
  return heartbeat;
}

/** The message's visibility extensions, until its receipt handle is found lost. */
class VisibilityExtension {
  #lost = false;

  constructor(private readonly options: JobHeartbeatOptions) {}

  async extend(): Promise<void> {
    if (this.#lost) return;
    const { extender, receiptHandle, visibilityTimeoutSeconds, logger, fields } = this.options;
    try {
      await extender.changeVisibility(receiptHandle, visibilityTimeoutSeconds);
    } catch (error) {
      if (error instanceof ReceiptHandleInvalidError) {
        this.#lost = true;
        logger.warn('job message lost: its visibility timeout ran out before a heartbeat', {
          ...fields,
          error: errorMessage(error),
        });
        return;
      }
      logger.warn('heartbeat failed; trying again at the next beat', {
        ...fields,
        error: errorMessage(error),
      });
    }
  }
}
