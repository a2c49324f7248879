import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type {
  AttributeMap,
  JobStreamRecord,
  StreamBatchHandler,
  StreamEventName,
} from '../../core/contracts/job-stream.js';
import type { JobRecord } from '../../core/contracts/jobs.js';
import {
  ChangeDeliveryRetries,
  ChangeFeedOptionsError,
  ChangeFeedStateError,
  deliverBatch,
  recordLogFields,
  silentChangeFeedLogger,
  type ChangeDeliveryOptions,
  type ChangeFeedLogger,
} from '../../core/job-plane/change-feed-delivery.js';
import type { JobChangeFeed } from '../../core/ports/job-store.js';

/** Options of {@link EmbeddedChangeFeed}; every field has a default. */
export interface EmbeddedChangeFeedOptions {
  /** The table name the records' `eventSourceARN` names; default `pipeline-jobs`. */
  readonly tableName?: string;
  /** The records' `awsRegion`; default `local`. */
  readonly region?: string;
  /** Most records per batch; default 100 (Lambda's default for DynamoDB streams). */
  readonly batchSize?: number;
  /**
   * Records kept for subscribers to come, like a stream's 24-hour retention: at least the
   * newest 10,000 (the default) and every record a current subscriber has not been given yet
   * (a slow subscriber never loses records; the log grows instead). A new subscriber starts
   * at the oldest kept record (`TRIM_HORIZON`) unless `startingPosition` is `LATEST`.
   */
  readonly retainedRecords?: number;
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** How a failed batch is delivered again (see `core/job-plane/change-feed-delivery.ts`). */
  readonly delivery?: ChangeDeliveryOptions;
  readonly logger?: ChangeFeedLogger;
}

/** A change to publish: `INSERT` has only `newRecord`, `REMOVE` only `oldRecord`. */
export interface JobChange {
  readonly eventName: StreamEventName;
  readonly jobId: string;
  readonly oldRecord?: JobRecord;
  readonly newRecord?: JobRecord;
}

/**
 * The in-process change feed of the embedded job store: an append-only log of records shaped
 * exactly like DynamoDB stream records (NEW_AND_OLD_IMAGES, images in attribute-value form,
 * increasing 21-digit sequence numbers), delivered in commit order, in batches, to each
 * subscriber by a loop of its own. Publishing only appends and wakes the loops, so a writer
 * never waits for a handler; records written in one turn of the event loop share a batch.
 * Unsubscribing drains: every record published before it is delivered (failed batches retried
 * as the delivery policy says) before the returned promise resolves.
 */
export class EmbeddedChangeFeed implements JobChangeFeed {
  private readonly options: Required<Omit<EmbeddedChangeFeedOptions, 'delivery'>> & {
    readonly delivery: ChangeDeliveryOptions;
  };
  private readonly eventSourceArn: string;
  private readonly log: LoggedChange[] = [];
  /** The position of `log[0]` among all records ever published. */
  private logStart = 0;
  private sequence = 0;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: EmbeddedChangeFeedOptions = {}) {
    this.options = {
      tableName: options.tableName ?? 'pipeline-jobs',
      region: options.region ?? 'local',
      batchSize: positiveInteger('batchSize', options.batchSize ?? 100),
      retainedRecords: positiveInteger('retainedRecords', options.retainedRecords ?? 10_000),
      startingPosition: options.startingPosition ?? 'TRIM_HORIZON',
      delivery: options.delivery ?? {},
      logger: options.logger ?? silentChangeFeedLogger,
    };
    // Checks the delivery options now rather than at the first subscription.
    new ChangeDeliveryRetries(this.options.delivery);
    this.eventSourceArn = `arn:aws:dynamodb:${this.options.region}:000000000000:table/${this.options.tableName}/stream/embedded`;
  }

  /** The position after the last published record. */
  get end(): number {
    return this.logStart + this.log.length;
  }

  /**
   * Appends one committed change and wakes the subscribers. Its stream record (images in
   * attribute-value form) is made when a subscriber first reads it, so that a feed nobody
   * reads (a pipeline run without a reconciler) costs a list entry per change. The job store
   * never changes a record it has stored, so the images are those of the commit.
   */
  publish(change: JobChange): void {
    this.sequence += 1;
    this.log.push({ change, sequence: this.sequence, publishedAt: Date.now() });
    this.trim();
    for (const subscription of this.subscriptions) subscription.wake();
  }

  /** The stream record of a logged change, made once. */
  private recordOf(logged: LoggedChange): JobStreamRecord {
    if (logged.record !== undefined) return logged.record;
    const { change } = logged;
    const keys: AttributeMap = { job_id: { S: change.jobId } };
    const newImage = change.newRecord === undefined ? undefined : toImage(change.newRecord);
    const oldImage = change.oldRecord === undefined ? undefined : toImage(change.oldRecord);
    logged.record = {
      eventID: randomUUID(),
      eventName: change.eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.options.region,
      eventSourceARN: this.eventSourceArn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(logged.publishedAt / 1000),
        Keys: keys,
        ...(newImage === undefined ? {} : { NewImage: newImage }),
        ...(oldImage === undefined ? {} : { OldImage: oldImage }),
        SequenceNumber: String(logged.sequence).padStart(21, '0'),
        SizeBytes: Buffer.byteLength(JSON.stringify([keys, newImage, oldImage])),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    return logged.record;
  }

  /**
   * Drops the oldest records beyond `retainedRecords`, in chunks (a quarter of the limit) so
   * that publishing stays O(1), and never one that a subscriber has not been given yet.
   */
  private trim(): void {
    const limit = this.options.retainedRecords;
    if (this.log.length <= limit + Math.ceil(limit / 4)) return;
    let oldestNeeded = this.end;
    for (const subscription of this.subscriptions) {
      oldestNeeded = Math.min(oldestNeeded, subscription.position);
    }
    const drop = Math.min(this.log.length - limit, oldestNeeded - this.logStart);
    if (drop <= 0) return;
    this.log.splice(0, drop);
    this.logStart += drop;
  }

  /** Up to `batchSize` records from `position`, and the position they really start at. */
  read(position: number): { readonly start: number; readonly records: JobStreamRecord[] } {
    const start = Math.max(position, this.logStart);
    if (start > position) {
      this.options.logger.error('change feed subscriber fell behind the retained records', {
        lostRecords: start - position,
      });
    }
    const offset = start - this.logStart;
    const batch = this.log.slice(offset, offset + this.options.batchSize);
    return { start, records: batch.map((logged) => this.recordOf(logged)) };
  }

  subscribe(handler: StreamBatchHandler): () => Promise<void> {
    if (this.closed) throw new ChangeFeedStateError('the embedded change feed is closed');
    const start = this.options.startingPosition === 'LATEST' ? this.end : this.logStart;
    const subscription = new Subscription(this, handler, start, {
      retries: new ChangeDeliveryRetries(this.options.delivery),
      logger: this.options.logger,
    });
    this.subscriptions.add(subscription);
    const stopped = subscription.start().finally(() => this.subscriptions.delete(subscription));
    return () => {
      subscription.drain();
      return stopped;
    };
  }

  /** Refuses new subscribers and unsubscribes every subscriber, each after draining; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.subscriptions].map((subscription) => {
        subscription.drain();
        return subscription.stopped;
      }),
    );
  }
}

/** A published change, with its stream record once a subscriber has read it. */
interface LoggedChange {
  readonly change: JobChange;
  readonly sequence: number;
  readonly publishedAt: number;
  record?: JobStreamRecord;
}

/** One subscriber's delivery loop: reads from its position, hands batches to the handler. */
class Subscription {
  /** The first record not yet delivered (or being delivered) to this subscriber. */
  position: number;
  /** Where delivery stops once draining: the end of the log when `drain()` was called. */
  private drainUntil: number | undefined;
  private wakeUp: (() => void) | undefined;
  stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly feed: EmbeddedChangeFeed,
    private readonly handler: StreamBatchHandler,
    start: number,
    private readonly deps: {
      readonly retries: ChangeDeliveryRetries;
      readonly logger: ChangeFeedLogger;
    },
  ) {
    this.position = start;
  }

  start(): Promise<void> {
    this.stopped = this.run();
    return this.stopped;
  }

  /** Called on each publish; defers to the next turn so that a burst of writes shares a batch. */
  wake(): void {
    const wakeUp = this.wakeUp;
    if (wakeUp === undefined) return;
    this.wakeUp = undefined;
    setImmediate(wakeUp);
  }

  drain(): void {
    if (this.drainUntil !== undefined) return;
    this.drainUntil = this.feed.end;
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private async run(): Promise<void> {
    for (;;) {
      const limit = this.drainUntil ?? this.feed.end;
      if (this.position >= limit) {
        if (this.drainUntil !== undefined) return;
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      const { start, records } = this.feed.read(this.position);
      const batch = records.slice(0, limit - start);
      this.position = start;
      await this.deliver(batch);
    }
  }

  private async deliver(records: JobStreamRecord[]): Promise<void> {
    const delivery = await deliverBatch(this.handler, { Records: records });
    const failedIndex = delivery.firstFailedIndex;
    const failed = failedIndex === undefined ? undefined : records[failedIndex];
    if (failedIndex === undefined || failed === undefined) {
      this.deps.retries.reset();
      this.position += records.length;
      return;
    }
    this.position += failedIndex;
    const next = this.deps.retries.failedAt(failed);
    if (next.action === 'skip') {
      this.deps.logger.error('change record skipped after repeated failed deliveries', {
        ...recordLogFields(failed),
        attempts: next.attempts,
        error: delivery.error,
      });
      this.position += 1;
      return;
    }
    this.deps.logger.warn('change batch failed; delivering again from the first failed record', {
      ...recordLogFields(failed),
      attempt: next.attempt,
      delayMs: next.delayMs,
      error: delivery.error,
    });
    await new Promise((resolve) => setTimeout(resolve, next.delayMs));
  }
}

/** A record in attribute-value form, as DynamoDB stores what the document client writes. */
function toImage(record: JobRecord): AttributeMap {
  // marshall gives only S, N, BOOL, NULL, M and L for a job record: the core AttributeMap.
  return marshall(record, { removeUndefinedValues: true }) as AttributeMap;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ChangeFeedOptionsError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
