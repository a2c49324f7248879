import { describe, expect, it } from 'vitest';
import type { JobStreamEvent, JobStreamRecord } from '../contracts/job-stream.js';
import {
  ChangeDeliveryRetries,
  ChangeFeedOptionsError,
  deliverBatch,
  firstFailedRecordIndex,
} from './change-feed-delivery.js';

function record(eventID: string): JobStreamRecord {
  return {
    eventID,
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { job_id: { S: 'run-1/discovery' } },
      SequenceNumber: '1',
      SizeBytes: 1,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const event: JobStreamEvent = { Records: [record('a'), record('b'), record('c')] };

describe('firstFailedRecordIndex', () => {
  it('finds the earliest reported record, whatever the order of the report', () => {
    const response = { batchItemFailures: [{ itemIdentifier: 'c' }, { itemIdentifier: 'b' }] };

    expect(firstFailedRecordIndex(event, response)).toBe(1);
  });

  it('reads no answer or an empty report as success, and an unknown record as a failed batch', () => {
    expect(firstFailedRecordIndex(event, undefined)).toBeUndefined();
    expect(firstFailedRecordIndex(event, { batchItemFailures: [] })).toBeUndefined();
    expect(firstFailedRecordIndex(event, { batchItemFailures: [{ itemIdentifier: 'x' }] })).toBe(0);
  });
});

describe('deliverBatch', () => {
  it('turns a handler that throws into a failure of the whole batch', async () => {
    const failure = new Error('database down');

    const delivery = await deliverBatch(() => Promise.reject(failure), event);

    expect(delivery).toEqual({ firstFailedIndex: 0, error: failure });
  });
});

describe('ChangeDeliveryRetries', () => {
  it('retries the same record with growing waits, then skips it', () => {
    const retries = new ChangeDeliveryRetries({
      maxAttempts: 3,
      backoff: { baseDelayMs: 10, maxDelayMs: 1000, jitterMs: 0 },
    });

    const decisions = [record('a'), record('a'), record('a')].map((failed) =>
      retries.failedAt(failed),
    );

    expect(decisions).toEqual([
      { action: 'retry', attempt: 1, delayMs: 10 },
      { action: 'retry', attempt: 2, delayMs: 20 },
      { action: 'skip', attempts: 3 },
    ]);
  });

  it('counts afresh when a different record fails', () => {
    const retries = new ChangeDeliveryRetries({ maxAttempts: 2, backoff: { jitterMs: 0 } });

    retries.failedAt(record('a'));

    expect(retries.failedAt(record('b'))).toMatchObject({ action: 'retry', attempt: 1 });
  });

  it('refuses options that make no sense', () => {
    expect(() => new ChangeDeliveryRetries({ maxAttempts: 0 })).toThrow(ChangeFeedOptionsError);
  });
});
