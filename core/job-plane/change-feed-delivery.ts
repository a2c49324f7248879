import type {
  JobStreamEvent,
  JobStreamRecord,
  StreamBatchHandler,
  StreamBatchResponse,
} from '../contracts/job-stream.js';
import { backoffDelay, type BackoffOptions } from '../retry.js';
import { JobPlaneError } from './job-plane-errors.js';

/*
 * How every job change feed (the embedded store's, the DynamoDB stream poller) treats a batch
 * its handler failed, decided once so the feeds behave alike:
 * - the records before the first failed one are done; delivery starts again at the first
 *   failed record, with the records after it (Lambda's partial batch response);
 * - a handler that throws, or names a record that is not in the batch, failed the whole batch;
 * - between deliveries the feed waits with exponential backoff; after `maxAttempts`
 *   deliveries failing at the same record, that record is logged and skipped, and delivery
 *   goes on with the next one, so one poison record never stops the feed.
 */

/** The small logger change feeds write to; any structured logger fits. */
export interface ChangeFeedLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default of the feeds. */
export const silentChangeFeedLogger: ChangeFeedLogger = {
  warn: () => undefined,
  error: () => undefined,
};

/** A change feed was given options that make no sense. */
export class ChangeFeedOptionsError extends JobPlaneError {}

/** A change feed was used in a state that does not allow it (subscribed twice, or closed). */
export class ChangeFeedStateError extends JobPlaneError {}

/** How a feed delivers a failed batch again. */
export interface ChangeDeliveryOptions {
  /** Deliveries failing at the same record before it is skipped; default 5. */
  readonly maxAttempts?: number;
  /** Waits between deliveries; default 200 ms doubling to at most 10 s, plus up to 100 ms. */
  readonly backoff?: BackoffOptions;
}

/** The defaults of {@link ChangeDeliveryOptions}. */
export const DEFAULT_CHANGE_DELIVERY = {
  maxAttempts: 5,
  backoff: { baseDelayMs: 200, maxDelayMs: 10_000, jitterMs: 100 },
} as const;

/** What to do after a delivery that failed at a record. */
export type FailedDeliveryAction =
  | { readonly action: 'retry'; readonly attempt: number; readonly delayMs: number }
  | { readonly action: 'skip'; readonly attempts: number };

/** The outcome of handing one batch to a handler. */
export interface BatchDelivery {
  /** Index of the first record to deliver again; absent when the whole batch was done. */
  readonly firstFailedIndex?: number;
  /** What the handler threw, if it threw. */
  readonly error?: unknown;
}

/**
 * Counts the deliveries that failed at the same record and decides between another attempt
 * (after a backoff) and skipping it. One per subscription; not shared between shards.
 */
export class ChangeDeliveryRetries {
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private failingEventId: string | undefined;
  private attempts = 0;

  constructor(options: ChangeDeliveryOptions = {}) {
    const maxAttempts = options.maxAttempts ?? DEFAULT_CHANGE_DELIVERY.maxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ChangeFeedOptionsError(
        `delivery maxAttempts must be a positive integer, got ${maxAttempts}`,
      );
    }
    this.maxAttempts = maxAttempts;
    this.backoff = { ...DEFAULT_CHANGE_DELIVERY.backoff, ...options.backoff };
    // Checks the backoff options now, so a bad value fails at construction, not at a failure.
    backoffDelay(1, this.backoff);
  }

  /** Records a delivery that failed at `record` and says what to do next. */
  failedAt(record: JobStreamRecord): FailedDeliveryAction {
    if (record.eventID === this.failingEventId) {
      this.attempts += 1;
    } else {
      this.failingEventId = record.eventID;
      this.attempts = 1;
    }
    if (this.attempts >= this.maxAttempts) {
      const attempts = this.attempts;
      this.reset();
      return { action: 'skip', attempts };
    }
    return {
      action: 'retry',
      attempt: this.attempts,
      delayMs: backoffDelay(this.attempts, this.backoff),
    };
  }

  /** Forgets the failing record once a delivery got past it. */
  reset(): void {
    this.failingEventId = undefined;
    this.attempts = 0;
  }
}

/**
 * Hands `event` to `handler` and finds where delivery must start again: the first record the
 * handler reported in `batchItemFailures`, or 0 when it threw or named an unknown record.
 */
export async function deliverBatch(
  handler: StreamBatchHandler,
  event: JobStreamEvent,
): Promise<BatchDelivery> {
  let response: StreamBatchResponse | void;
  try {
    response = await handler(event);
  } catch (error) {
    return { firstFailedIndex: 0, error };
  }
  const firstFailedIndex = firstFailedRecordIndex(event, response);
  return firstFailedIndex === undefined ? {} : { firstFailedIndex };
}

/**
 * The index of the first record `response` reports as failed, `undefined` when none; a failure
 * naming a record that is not in the batch fails the whole batch (index 0), as Lambda does.
 */
export function firstFailedRecordIndex(
  event: JobStreamEvent,
  response: StreamBatchResponse | void,
): number | undefined {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return undefined;
  const positions = new Map(event.Records.map((record, index) => [record.eventID, index]));
  let first = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const index = positions.get(failure.itemIdentifier);
    if (index === undefined) return 0;
    first = Math.min(first, index);
  }
  return first;
}

/** Log fields that identify a record without its images (which may be large). */
export function recordLogFields(record: JobStreamRecord): Record<string, unknown> {
  const jobId = record.dynamodb.Keys['job_id'];
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    sequenceNumber: record.dynamodb.SequenceNumber,
    jobId: jobId !== undefined && 'S' in jobId ? jobId.S : undefined,
  };
}
