import { errorMessage } from '../../core/errors.js';
import { ReceiptHandleInvalidError } from '../../core/job-plane/job-plane-errors.js';
import type { ReceivedMessage } from '../../core/ports/job-queue.js';
import { retry, type RetryOptions } from '../../core/retry.js';
import type { CompiledJobWorkerOptions } from './job-worker-options.js';
import type { WorkerLogger } from './worker-logger.js';

/** Retries of the writes that end a job (record, delete): a few quick ones, transient only. */
export const FINISH_RETRY: Omit<RetryOptions, 'signal'> = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2000,
  jitterMs: 100,
};

/**
 * One delivery of a job message as a worker holds it, and the two ways to let go of it:
 * delete it once the job's outcome is recorded, or hand it back unfinished, giving up the job
 * this worker claimed first so that the next delivery takes it over at once rather than
 * waiting for its heartbeat to go stale. Failures are logged, never thrown: the message then
 * comes back by itself.
 */
export class JobDelivery {
  readonly #options: Pick<CompiledJobWorkerOptions, 'queue' | 'jobs' | 'logger' | 'workerId'>;
  readonly #message: ReceivedMessage;
  #claimedJobId: string | undefined;

  constructor(
    options: Pick<CompiledJobWorkerOptions, 'queue' | 'jobs' | 'logger' | 'workerId'>,
    message: ReceivedMessage,
  ) {
    this.#options = options;
    this.#message = message;
  }

  /** Notes that this worker claimed `jobId` with this delivery. */
  claimed(jobId: string): void {
    this.#claimedJobId = jobId;
  }

  /** Removes the message for good (retrying transient failures). */
  async delete(fields: Record<string, unknown>): Promise<void> {
    const { queue, logger } = this.#options;
    try {
      await retry(() => queue.delete(this.#message.receiptHandle), FINISH_RETRY);
    } catch (error) {
      // The record is terminal, so a redelivery is deleted without running.
      logProblem(logger, error, 'could not delete the job message', fields);
    }
  }

  /**
   * Makes the message visible again at once, for this or another worker, after giving up the
   * claimed job unless `release` is false (a handler that may still be running keeps it).
   */
  async handBack(
    fields: Record<string, unknown>,
    options: { readonly release?: boolean } = {},
  ): Promise<void> {
    const { queue, jobs, logger, workerId } = this.#options;
    if (this.#claimedJobId !== undefined && options.release !== false) {
      try {
        await jobs.release(this.#claimedJobId, workerId);
      } catch (error) {
        logger.warn('could not give the job up; the next delivery waits for its heartbeat', {
          ...fields,
          error: errorMessage(error),
        });
      }
    }
    try {
      await queue.changeVisibility(this.#message.receiptHandle, 0);
    } catch (error) {
      logProblem(logger, error, 'could not hand the job message back', fields);
    }
  }
}

/**
 * Logs a failed queue call: a receipt handle that is no longer valid is expected (the message
 * came back or went elsewhere) and only a warning; anything else is an error.
 */
function logProblem(
  logger: WorkerLogger,
  error: unknown,
  message: string,
  fields: Record<string, unknown>,
): void {
  const entry = { ...fields, error: errorMessage(error) };
  if (error instanceof ReceiptHandleInvalidError) logger.warn(message, entry);
  else logger.error(message, entry);
}
