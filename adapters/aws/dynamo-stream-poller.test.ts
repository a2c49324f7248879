/**
 * What DynamoDB Local cannot show the stream poller's contract run: split shards, expired and
 * trimmed iterators, failing AWS calls. DynamoDB Streams is mocked with aws-sdk-client-mock.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobStreamEvent, StreamBatchResponse } from '../../core/contracts/job-stream.js';
import {
  ChangeFeedOptionsError,
  ChangeFeedStateError,
} from '../../core/job-plane/change-feed-delivery.js';
import { DynamoStreamPoller, type DynamoStreamPollerOptions } from './dynamo-stream-poller.js';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/pipeline-jobs/stream/2026';
const streams = mockClient(DynamoDBStreamsClient);
let client: DynamoDBStreamsClient;
const logger = { warn: vi.fn(), error: vi.fn() };
const stops: (() => Promise<void>)[] = [];

function makePoller(options: Partial<DynamoStreamPollerOptions> = {}): DynamoStreamPoller {
  const poller = new DynamoStreamPoller({
    streamArn: STREAM_ARN,
    client,
    pollIntervalMs: 5,
    delivery: { maxAttempts: 3, backoff: { baseDelayMs: 1, maxDelayMs: 5, jitterMs: 0 } },
    errorBackoff: { baseDelayMs: 5, maxDelayMs: 20, jitterMs: 0 },
    logger,
    ...options,
  });
  stops.push(() => poller.stop());
  return poller;
}

/** A MODIFY record of sequence number `sequence` (its eventID is `e<sequence>`). */
function record(sequence: number): _Record {
  return {
    eventID: `e${sequence}`,
    eventName: 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: new Date('2026-01-01T00:00:10.000Z'),
      Keys: { job_id: { S: 'run-1/discovery' } },
      NewImage: { job_id: { S: 'run-1/discovery' }, status: { S: 'running' } },
      OldImage: { job_id: { S: 'run-1/discovery' }, status: { S: 'pending' } },
      SequenceNumber: String(sequence),
      SizeBytes: 40,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** A handler that keeps the eventIDs of every batch and answers as `respond` says. */
function recorder(
  respond: (event: JobStreamEvent) => StreamBatchResponse | void = () => undefined,
) {
  const batches: string[][] = [];
  const handler = (event: JobStreamEvent) => {
    batches.push(event.Records.map((entry) => entry.eventID));
    return Promise.resolve(respond(event));
  };
  return { batches, handler };
}

async function until(condition: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(condition()).toBe(true), { timeout: 5000, interval: 5 });
}

function oneOpenShard(): void {
  streams
    .on(DescribeStreamCommand)
    .resolves({ StreamDescription: { Shards: [{ ShardId: 's1' }] } });
}

beforeEach(() => {
  streams.reset();
  logger.warn.mockClear();
  logger.error.mockClear();
  client = new DynamoDBStreamsClient({ region: 'us-east-1' });
});

afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
  client.destroy();
});

describe('DynamoStreamPoller', () => {
  it('reads a child shard only after its parent, across pages of the shard list', async () => {
    streams
      .on(DescribeStreamCommand)
      .resolves({
        StreamDescription: {
          Shards: [{ ShardId: 'child', ParentShardId: 'parent' }],
          LastEvaluatedShardId: 'child',
        },
      })
      .on(DescribeStreamCommand, { ExclusiveStartShardId: 'child' })
      .resolves({
        StreamDescription: {
          Shards: [
            {
              ShardId: 'parent',
              SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '2' },
            },
          ],
        },
      });
    streams
      .on(GetShardIteratorCommand, { ShardId: 'parent' })
      .resolves({ ShardIterator: 'parent-0' });
    streams
      .on(GetShardIteratorCommand, { ShardId: 'child' })
      .resolves({ ShardIterator: 'child-0' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'parent-0' })
      .resolves({ Records: [record(1), record(2)], NextShardIterator: 'parent-1' })
      .on(GetRecordsCommand, { ShardIterator: 'parent-1' })
      .resolves({ Records: [] })
      .on(GetRecordsCommand, { ShardIterator: 'child-0' })
      .resolves({ Records: [record(3)], NextShardIterator: 'child-1' })
      .on(GetRecordsCommand, { ShardIterator: 'child-1' })
      .resolves({ Records: [], NextShardIterator: 'child-1' });
    const { batches, handler } = recorder();

    makePoller().subscribe(handler);
    await until(() => batches.flat().includes('e3'));

    expect(batches).toEqual([['e1', 'e2'], ['e3']]);
  });

  it('delivers Lambda-shaped records', async () => {
    oneOpenShard();
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-0' })
      .resolves({ Records: [record(7)], NextShardIterator: 'it-1' })
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [], NextShardIterator: 'it-1' });
    const events: JobStreamEvent[] = [];

    makePoller().subscribe((event) => {
      events.push(event);
      return Promise.resolve();
    });
    await until(() => events.length > 0);

    expect(events[0]?.Records[0]).toEqual({
      eventID: 'e7',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-01-01T00:00:10.000Z') / 1000,
        Keys: { job_id: { S: 'run-1/discovery' } },
        NewImage: { job_id: { S: 'run-1/discovery' }, status: { S: 'running' } },
        OldImage: { job_id: { S: 'run-1/discovery' }, status: { S: 'pending' } },
        SequenceNumber: '7',
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  });

  it('reads again at the first failed record with a new iterator AT_SEQUENCE_NUMBER', async () => {
    oneOpenShard();
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' })
      .resolves({ ShardIterator: 'it-0' })
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '2' })
      .resolves({ ShardIterator: 'at-2' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-0' })
      .resolves({ Records: [record(1), record(2), record(3)], NextShardIterator: 'it-1' })
      .on(GetRecordsCommand, { ShardIterator: 'at-2' })
      .resolves({ Records: [record(2), record(3)], NextShardIterator: 'it-1' })
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [], NextShardIterator: 'it-1' });
    let failed = false;
    const { batches, handler } = recorder(() => {
      if (failed) return undefined;
      failed = true;
      return { batchItemFailures: [{ itemIdentifier: 'e2' }] };
    });

    makePoller().subscribe(handler);
    await until(() => batches.length >= 2);

    expect(batches.slice(0, 2)).toEqual([
      ['e1', 'e2', 'e3'],
      ['e2', 'e3'],
    ]);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('delivering again'),
      expect.objectContaining({ eventID: 'e2', attempt: 1 }),
    );
  });

  it('logs and leaves out a record the job table cannot have produced', async () => {
    oneOpenShard();
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    const binary = record(1);
    binary.dynamodb = { ...binary.dynamodb, NewImage: { blob: { B: new Uint8Array([1]) } } };
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-0' })
      .resolves({ Records: [binary, record(2)], NextShardIterator: 'it-1' })
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [], NextShardIterator: 'it-1' });
    const { batches, handler } = recorder();

    makePoller().subscribe(handler);
    await until(() => batches.length >= 1);

    expect(batches[0]).toEqual(['e2']);
    expect(logger.error).toHaveBeenCalledWith(
      'malformed stream record skipped',
      expect.objectContaining({ eventID: 'e1' }),
    );
  });

  it('renews an expired iterator after the last delivered record', async () => {
    oneOpenShard();
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' })
      .resolves({ ShardIterator: 'it-0' })
      .on(GetShardIteratorCommand, {
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: '1',
      })
      .resolves({ ShardIterator: 'after-1' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-0' })
      .resolves({ Records: [record(1)], NextShardIterator: 'it-1' })
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .rejects(
        new ExpiredIteratorException({
          message: 'Iterator expired',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .on(GetRecordsCommand, { ShardIterator: 'after-1' })
      .resolves({ Records: [record(2)], NextShardIterator: 'it-2' })
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .resolves({ Records: [], NextShardIterator: 'it-2' });
    const { batches, handler } = recorder();

    makePoller().subscribe(handler);
    await until(() => batches.length >= 2);

    expect(batches).toEqual([['e1'], ['e2']]);
  });

  it('restarts at the oldest record when its position was trimmed away', async () => {
    oneOpenShard();
    streams
      .on(GetShardIteratorCommand)
      .resolvesOnce({ ShardIterator: 'stale' })
      .resolves({ ShardIterator: 'oldest' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'stale' })
      .rejects(
        new TrimmedDataAccessException({ message: 'trimmed', $metadata: { httpStatusCode: 400 } }),
      )
      .on(GetRecordsCommand, { ShardIterator: 'oldest' })
      .resolves({ Records: [record(9)], NextShardIterator: 'next' })
      .on(GetRecordsCommand, { ShardIterator: 'next' })
      .resolves({ Records: [], NextShardIterator: 'next' });
    const { batches, handler } = recorder();

    makePoller({ startingPosition: 'LATEST' }).subscribe(handler);
    await until(() => batches.length >= 1);

    const types = streams
      .commandCalls(GetShardIteratorCommand)
      .map((call) => call.args[0].input.ShardIteratorType);
    expect(types.slice(0, 2)).toEqual(['LATEST', 'TRIM_HORIZON']);
    expect(batches[0]).toEqual(['e9']);
    expect(logger.error).toHaveBeenCalled();
  });

  it('starts from LATEST in open shards and skips closed ones', async () => {
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        Shards: [
          {
            ShardId: 'old',
            SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '5' },
          },
          { ShardId: 'new', ParentShardId: 'old' },
        ],
      },
    });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'latest' });
    streams.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: 'latest' });

    makePoller({ startingPosition: 'LATEST' }).subscribe(recorder().handler);
    await until(() => streams.commandCalls(GetRecordsCommand).length > 0);

    const inputs = streams.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => [input.ShardId, input.ShardIteratorType])).toEqual([
      ['new', 'LATEST'],
    ]);
  });

  it('logs a failing AWS call and keeps trying, until stopped', async () => {
    streams.on(DescribeStreamCommand).rejects(
      new ResourceNotFoundException({
        message: 'Requested resource not found',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const poller = makePoller();

    const unsubscribe = poller.subscribe(recorder().handler);
    await until(() => streams.commandCalls(DescribeStreamCommand).length >= 3);
    await unsubscribe();
    const calls = streams.commandCalls(DescribeStreamCommand).length;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(logger.error).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({
        error: expect.objectContaining({
          operation: 'dynamodb-streams:DescribeStream',
          resource: STREAM_ARN,
        }),
      }),
    );
    expect(streams.commandCalls(DescribeStreamCommand)).toHaveLength(calls);
    await poller.stop();
  });

  it('does no I/O before subscribe, and takes one subscription', () => {
    const poller = makePoller();

    expect(streams.calls()).toHaveLength(0);
    oneOpenShard();
    poller.subscribe(recorder().handler);
    expect(() => poller.subscribe(recorder().handler)).toThrow(ChangeFeedStateError);
  });

  it('refuses options that make no sense', () => {
    expect(() => makePoller({ batchSize: 1001 })).toThrow(ChangeFeedOptionsError);
    expect(() => makePoller({ pollIntervalMs: -1 })).toThrow(ChangeFeedOptionsError);
    expect(() => makePoller({ delivery: { maxAttempts: 0 } })).toThrow(ChangeFeedOptionsError);
  });
});
