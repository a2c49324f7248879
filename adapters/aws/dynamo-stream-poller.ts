import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { JobStreamRecord, StreamBatchHandler } from '../../core/contracts/job-stream.js';
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
import { backoffDelay, type BackoffOptions } from '../../core/retry.js';
import { awsOperationError, hasErrorName } from './aws-operation.js';
import { sdkClientConfig, type AwsClientConfig } from './aws-client-config.js';
import { toJobStreamRecord } from './dynamo-stream-records.js';

/** Options of {@link DynamoStreamPoller}; only `streamArn` is required. */
export interface DynamoStreamPollerOptions {
  /** The jobs table's stream (`createJobsTable` returns it; `LatestStreamArn` of the table). */
  readonly streamArn: string;
  /** A client to share; the poller never destroys it. Without one the poller makes its own. */
  readonly client?: DynamoDBStreamsClient;
  /** Settings of the client the poller makes when none is given. */
  readonly clientConfig?: AwsClientConfig;
  /**
   * Where reading starts in the shards open at subscription: every retained record
   * (`TRIM_HORIZON`, the default) or only new ones (`LATEST`). Child shards found later are
   * always read from their start.
   */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Most records per batch (`GetRecords` limit), 1 to 1000; default 100. */
  readonly batchSize?: number;
  /** Wait after a pass over the shards that found nothing; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** How often the shard list is described again for new shards; default 10 s. */
  readonly shardRefreshIntervalMs?: number;
  /** How a failed batch is delivered again (see `core/job-plane/change-feed-delivery.ts`). */
  readonly delivery?: ChangeDeliveryOptions;
  /** Waits after a failed AWS call; default 500 ms doubling to at most 30 s, plus 250 ms. */
  readonly errorBackoff?: BackoffOptions;
  readonly logger?: ChangeFeedLogger;
}

/** Where a shard's next iterator must start. */
type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; readonly sequence: string };

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  position: ShardPosition;
  iterator: string | undefined;
  /** Closed and read to its end. */
  done: boolean;
  readonly retries: ChangeDeliveryRetries;
}

type PollerState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * A {@link JobChangeFeed} over DynamoDB Streams, for processes that are not Lambda (local runs
 * against DynamoDB Local, tools): describes the stream's shards, reads each with `GetRecords`
 * (a child shard only once its parent is read to its end, so a job's changes stay in order),
 * and hands the records to the handler as Lambda-shaped batches, one batch at a time.
 *
 * Failed records follow the shared delivery policy: the batch is read again from the first
 * failed record (a new iterator `AT_SEQUENCE_NUMBER`) after a backoff, and a record that keeps
 * failing is logged and skipped. Expired iterators are renewed after the last delivered record;
 * trimmed ones restart at the oldest retained record. AWS errors are logged and retried with
 * backoff: the poller never stops on its own. Positions live in memory only, so a new poller
 * starts again at `startingPosition`: handlers must be idempotent, as for Lambda.
 *
 * The constructor does no I/O; `subscribe` starts polling, and the function it returns (or
 * `stop()`) stops it: the batch being handled finishes, waits are cut short, and nothing is
 * read afterwards.
 */
export class DynamoStreamPoller implements JobChangeFeed {
  private readonly client: DynamoDBStreamsClient;
  private readonly ownsClient: boolean;
  private readonly streamArn: string;
  private readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly shardRefreshIntervalMs: number;
  private readonly delivery: ChangeDeliveryOptions;
  private readonly errorBackoff: BackoffOptions;
  private readonly logger: ChangeFeedLogger;
  private readonly shards = new Map<string, ShardState>();
  private readonly abort = new AbortController();
  private state: PollerState = 'idle';
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  /** A shard was read to its end since the last refresh: its children may be listed now. */
  private shardFinished = false;

  constructor(options: DynamoStreamPollerOptions) {
    this.streamArn = options.streamArn;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ?? new DynamoDBStreamsClient(sdkClientConfig(options.clientConfig));
    this.startingPosition = options.startingPosition ?? 'TRIM_HORIZON';
    this.batchSize = checked('batchSize', options.batchSize ?? 100, 1, 1000);
    this.pollIntervalMs = checked('pollIntervalMs', options.pollIntervalMs ?? 1000, 0);
    this.shardRefreshIntervalMs = checked(
      'shardRefreshIntervalMs',
      options.shardRefreshIntervalMs ?? 10_000,
      0,
    );
    this.delivery = options.delivery ?? {};
    // Checks the delivery options now rather than when the first shard is found.
    new ChangeDeliveryRetries(this.delivery);
    this.errorBackoff = {
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      jitterMs: 250,
      ...options.errorBackoff,
    };
    backoffDelay(1, this.errorBackoff);
    this.logger = options.logger ?? silentChangeFeedLogger;
  }

  /** Starts polling and delivering to `handler`; a poller takes one subscription in its life. */
  subscribe(handler: StreamBatchHandler): () => Promise<void> {
    if (this.state !== 'idle') {
      throw new ChangeFeedStateError(`the stream poller of ${this.streamArn} was already started`);
    }
    this.state = 'running';
    this.loop = this.run(handler);
    return () => this.stop();
  }

  /** Stops polling after the batch being handled, then closes the client it made; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.abort.abort();
      await this.loop;
      if (this.ownsClient) this.client.destroy();
      this.state = 'stopped';
    })();
    return this.stopping;
  }

  private get running(): boolean {
    return this.state === 'running';
  }

  private async run(handler: StreamBatchHandler): Promise<void> {
    let lastRefresh = Number.NEGATIVE_INFINITY;
    let failures = 0;
    while (this.running) {
      try {
        if (Date.now() - lastRefresh >= this.shardRefreshIntervalMs || this.shardFinished) {
          this.shardFinished = false;
          await this.refreshShards(lastRefresh === Number.NEGATIVE_INFINITY);
          lastRefresh = Date.now();
        }
        let delivered = false;
        for (const shard of this.readableShards()) {
          if (!this.running) break;
          delivered = (await this.pollShard(shard, handler)) || delivered;
        }
        failures = 0;
        if (!delivered) await this.sleep(this.pollIntervalMs);
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        const delayMs = backoffDelay(failures, this.errorBackoff);
        const level = isRetryable(error) ? 'warn' : 'error';
        this.logger[level]('stream poller call failed; trying again', {
          streamArn: this.streamArn,
          error,
          delayMs,
        });
        await this.sleep(delayMs);
      }
    }
  }

  /** Adds the shards the stream lists that are new, and forgets finished ones it no longer lists. */
  private async refreshShards(initial: boolean): Promise<void> {
    const listed = new Set<string>();
    let startShardId: string | undefined;
    do {
      const output = await this.call('dynamodb-streams:DescribeStream', (abortSignal) =>
        this.client.send(
          new DescribeStreamCommand({
            StreamArn: this.streamArn,
            ExclusiveStartShardId: startShardId,
          }),
          { abortSignal },
        ),
      );
      const description = output.StreamDescription;
      for (const shard of description?.Shards ?? []) {
        if (shard.ShardId === undefined) continue;
        listed.add(shard.ShardId);
        if (this.shards.has(shard.ShardId)) continue;
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        this.shards.set(shard.ShardId, {
          shardId: shard.ShardId,
          parentShardId: shard.ParentShardId,
          // At the start, LATEST skips closed shards: nothing new will ever be written to them.
          position: { type: initial ? this.startingPosition : 'TRIM_HORIZON' },
          iterator: undefined,
          done: initial && closed && this.startingPosition === 'LATEST',
          retries: new ChangeDeliveryRetries(this.delivery),
        });
      }
      startShardId = description?.LastEvaluatedShardId;
    } while (startShardId !== undefined);
    for (const [shardId, shard] of this.shards) {
      if (shard.done && !listed.has(shardId)) this.shards.delete(shardId);
    }
  }

  /** Shards not yet read to their end whose parent is (or is gone from the stream). */
  private readableShards(): ShardState[] {
    return [...this.shards.values()].filter((shard) => {
      if (shard.done) return false;
      const parent =
        shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
      return parent === undefined || parent.done;
    });
  }

  /** Reads one batch of a shard and delivers it; whether it delivered anything. */
  private async pollShard(shard: ShardState, handler: StreamBatchHandler): Promise<boolean> {
    shard.iterator ??= await this.shardIterator(shard);
    const iterator = shard.iterator;
    let output;
    try {
      output = await this.call('dynamodb-streams:GetRecords', (abortSignal) =>
        this.client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }),
          {
            abortSignal,
          },
        ),
      );
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (hasErrorName(cause, 'ExpiredIteratorException')) {
        // Renewed from the shard's position: after the last record delivered.
        shard.iterator = undefined;
        return false;
      }
      if (hasErrorName(cause, 'TrimmedDataAccessException')) {
        this.logger.error('stream records expired before they were read; resuming at the oldest', {
          streamArn: this.streamArn,
          shardId: shard.shardId,
        });
        shard.position = { type: 'TRIM_HORIZON' };
        shard.iterator = undefined;
        return false;
      }
      throw error;
    }
    shard.iterator = output.NextShardIterator;
    const records = this.convert(output.Records ?? [], shard);
    const last = records.at(-1);
    if (last === undefined) {
      this.finishIfClosed(shard);
      return false;
    }
    const delivery = await deliverBatch(handler, { Records: records });
    const failedIndex = delivery.firstFailedIndex;
    const failed = failedIndex === undefined ? undefined : records[failedIndex];
    if (failed === undefined) {
      shard.retries.reset();
      shard.position = after(last.dynamodb.SequenceNumber);
      this.finishIfClosed(shard);
      return true;
    }
    // Read again from the failed record, whose successors come with it.
    shard.iterator = undefined;
    const next = shard.retries.failedAt(failed);
    if (next.action === 'skip') {
      this.logger.error('change record skipped after repeated failed deliveries', {
        ...recordLogFields(failed),
        attempts: next.attempts,
        error: delivery.error,
      });
      shard.position = after(failed.dynamodb.SequenceNumber);
      return true;
    }
    this.logger.warn('change batch failed; delivering again from the first failed record', {
      ...recordLogFields(failed),
      attempt: next.attempt,
      delayMs: next.delayMs,
      error: delivery.error,
    });
    shard.position = { type: 'AT_SEQUENCE_NUMBER', sequence: failed.dynamodb.SequenceNumber };
    await this.sleep(next.delayMs);
    return true;
  }

  /**
   * Lambda-shaped records; a record the job table cannot have produced is logged and left out
   * rather than blocking the shard for ever.
   */
  private convert(records: readonly StreamRecord[], shard: ShardState): JobStreamRecord[] {
    return records.flatMap((record) => {
      try {
        return [toJobStreamRecord(record, this.streamArn)];
      } catch (error) {
        this.logger.error('malformed stream record skipped', {
          streamArn: this.streamArn,
          shardId: shard.shardId,
          eventID: record.eventID,
          sequenceNumber: record.dynamodb?.SequenceNumber,
          error,
        });
        return [];
      }
    });
  }

  /** A shard without a next iterator is closed and read to its end. */
  private finishIfClosed(shard: ShardState): void {
    if (shard.iterator !== undefined) return;
    shard.done = true;
    this.shardFinished = true;
  }

  private async shardIterator(shard: ShardState): Promise<string | undefined> {
    const position = shard.position;
    const input: GetShardIteratorInput = {
      StreamArn: this.streamArn,
      ShardId: shard.shardId,
      ShardIteratorType: position.type,
      ...('sequence' in position ? { SequenceNumber: position.sequence } : {}),
    };
    const output = await this.call('dynamodb-streams:GetShardIterator', (abortSignal) =>
      this.client.send(new GetShardIteratorCommand(input), { abortSignal }),
    );
    return output.ShardIterator;
  }

  /** One AWS call, aborted by `stop()`, its failure mapped to a `JobPlaneOperationError`. */
  private async call<T>(operation: string, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await send(this.abort.signal);
    } catch (error) {
      throw awsOperationError(operation, this.streamArn, error);
    }
  }

  /** Waits `ms`, or less if `stop()` is called meanwhile. */
  private sleep(ms: number): Promise<void> {
    if (this.abort.signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }
}

function after(sequence: string): ShardPosition {
  return { type: 'AFTER_SEQUENCE_NUMBER', sequence };
}

function isRetryable(error: unknown): boolean {
  return (error as { retryable?: unknown }).retryable === true;
}

function checked(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ChangeFeedOptionsError(
      `${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}
