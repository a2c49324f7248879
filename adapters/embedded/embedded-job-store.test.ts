import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { JobStreamEvent } from '../../core/contracts/job-stream.js';
import { taskJobId } from '../../core/contracts/jobs.js';
import {
  ChangeFeedOptionsError,
  ChangeFeedStateError,
} from '../../core/job-plane/change-feed-delivery.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import {
  CONTRACT_DELIVERY,
  describeJobChangeFeedContract,
} from '../../test/contracts/job-change-feed.contract.js';
import { describeJobStoreContract } from '../../test/contracts/job-store.contract.js';
import { EmbeddedJobStore } from './embedded-job-store.js';

describeJobStoreContract('EmbeddedJobStore', () => {
  const store = new EmbeddedJobStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});

describeJobChangeFeedContract('EmbeddedJobStore', () => {
  const store = new EmbeddedJobStore({ feed: { delivery: CONTRACT_DELIVERY } });
  return Promise.resolve({ store, feed: store, cleanup: () => store.close() });
});

// What only the embedded feed can promise: it knows every committed change, so unsubscribing
// delivers all of them first; and its records can be compared byte for byte.
describe('EmbeddedJobStore change feed', () => {
  const runId = 'run-1';
  const jobId = taskJobId(runId, 'build', 'api');

  it('emits records shaped exactly like DynamoDB stream records', async () => {
    const store = new EmbeddedJobStore({
      feed: { tableName: 'pipeline-jobs', region: 'eu-west-1' },
    });
    const events: JobStreamEvent[] = [];
    const unsubscribe = store.subscribe((event) => {
      events.push(event);
      return Promise.resolve();
    });

    const created = await store.create({ job_id: jobId, run_id: runId, type: 'task' });
    const running = await store.transition(jobId, 'running');
    await unsubscribe();

    const [insert, modify] = events.flatMap((event) => event.Records);
    expect(insert).toEqual({
      eventID: expect.any(String),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:dynamodb:eu-west-1:000000000000:table/pipeline-jobs/stream/embedded',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { job_id: { S: jobId } },
        NewImage: marshall(created.created ? created.record : {}),
        SequenceNumber: '000000000000000000001',
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(modify?.dynamodb).toMatchObject({
      NewImage: marshall(running.record),
      OldImage: insert?.dynamodb.NewImage,
      SequenceNumber: '000000000000000000002',
    });
  });

  it('drains on unsubscribe: every change written before it is delivered', async () => {
    const store = new EmbeddedJobStore();
    const delivered: string[] = [];
    const unsubscribe = store.subscribe(async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      delivered.push(...event.Records.map((record) => record.eventName));
    });

    await store.create({ job_id: jobId, run_id: runId, type: 'task' });
    await store.transition(jobId, 'running');
    await store.transition(jobId, 'completed');
    await unsubscribe();

    expect(delivered).toEqual(['INSERT', 'MODIFY', 'MODIFY']);
  });

  it('batches the changes written in one turn of the event loop', async () => {
    const store = new EmbeddedJobStore({ feed: { batchSize: 2 } });
    const batches: number[] = [];
    const unsubscribe = store.subscribe((event) => {
      batches.push(event.Records.length);
      return Promise.resolve();
    });

    await Promise.all(
      ['a', 'b', 'c'].map((project) =>
        store.create({ job_id: taskJobId(runId, 'build', project), run_id: runId, type: 'task' }),
      ),
    );
    await unsubscribe();

    expect(batches).toEqual([2, 1]);
  });

  it('gives a late subscriber the retained changes, or only new ones from LATEST', async () => {
    const retained = new EmbeddedJobStore({ feed: { retainedRecords: 2 } });
    const latest = new EmbeddedJobStore({ feed: { startingPosition: 'LATEST' } });
    for (const store of [retained, latest]) {
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.transition(jobId, 'running');
      await store.updateStep(jobId, 'compile', { status: 'running' });
      await store.transition(jobId, 'completed');
    }

    const fromRetained = await statusesDelivered(retained);
    const fromLatest = await statusesDelivered(latest);

    expect(fromRetained).toEqual([{ S: 'running' }, { S: 'completed' }]);
    expect(fromLatest).toEqual([]);
  });

  it('never drops a record a subscriber has not been given', async () => {
    const store = new EmbeddedJobStore({ feed: { retainedRecords: 2 } });
    const statuses: unknown[] = [];
    const unsubscribe = store.subscribe((event) => {
      statuses.push(...event.Records.map((record) => record.dynamodb.NewImage?.['status']));
      return Promise.resolve();
    });

    // Written without yielding to the delivery loop: all ten wait in the log.
    for (let index = 0; index < 10; index += 1) {
      await store.create({
        job_id: taskJobId(runId, 'build', `p${index}`),
        run_id: runId,
        type: 'task',
      });
    }
    await unsubscribe();

    expect(statuses).toHaveLength(10);
  });

  it('refuses writes and subscriptions once closed; closing twice is harmless', async () => {
    const store = new EmbeddedJobStore();
    await store.create({ job_id: jobId, run_id: runId, type: 'task' });

    await store.close();
    await store.close();

    await expect(store.transition(jobId, 'running')).rejects.toThrow(JobPlaneOperationError);
    expect(() => store.subscribe(() => Promise.resolve())).toThrow(ChangeFeedStateError);
    expect((await store.get(jobId))?.status).toBe('pending');
  });

  it('refuses options that make no sense', () => {
    expect(() => new EmbeddedJobStore({ feed: { batchSize: 0 } })).toThrow(ChangeFeedOptionsError);
    expect(() => new EmbeddedJobStore({ feed: { delivery: { maxAttempts: 0 } } })).toThrow(
      ChangeFeedOptionsError,
    );
  });
});

/** Subscribes, unsubscribes (which drains), and returns the statuses of the new images seen. */
async function statusesDelivered(store: EmbeddedJobStore): Promise<unknown[]> {
  const statuses: unknown[] = [];
  const unsubscribe = store.subscribe((event) => {
    statuses.push(...event.Records.map((record) => record.dynamodb.NewImage?.['status']));
    return Promise.resolve();
  });
  await unsubscribe();
  return statuses;
}

describe('EmbeddedJobStore change signal', () => {
  const jobId = taskJobId('run-1', 'build', 'api');
  const otherJobId = taskJobId('run-1', 'build', 'web');

  it("wakes a waiter when the job's status changes, not at other writes or other jobs", async () => {
    const store = new EmbeddedJobStore();
    await store.create({ job_id: jobId, run_id: 'run-1', type: 'task' });
    await store.create({ job_id: otherJobId, run_id: 'run-1', type: 'task' });
    const woken: string[] = [];
    void store
      .nextStatusChange(jobId, new AbortController().signal, 'pending')
      .then(() => woken.push(jobId));

    await store.transition(otherJobId, 'running');
    await store.requestCancel(jobId);
    await Promise.resolve();
    const beforeStatusChange = [...woken];
    await store.transition(jobId, 'running');
    await Promise.resolve();

    expect(beforeStatusChange).toEqual([]);
    expect(woken).toEqual([jobId]);
    await store.close();
  });

  it('answers at once when the status already differs from the one seen', async () => {
    const store = new EmbeddedJobStore();
    await store.create({ job_id: jobId, run_id: 'run-1', type: 'task' });
    await store.transition(jobId, 'running');

    await expect(
      store.nextStatusChange(jobId, new AbortController().signal, 'pending'),
    ).resolves.toBeUndefined();
    await store.close();
  });

  it('lets a waiter go when its signal aborts, and every waiter when the store closes', async () => {
    const store = new EmbeddedJobStore();
    const stop = new AbortController();
    await store.create({ job_id: jobId, run_id: 'run-1', type: 'task' });
    await store.create({ job_id: otherJobId, run_id: 'run-1', type: 'task' });
    const aborted = store.nextStatusChange(jobId, stop.signal, 'pending');
    const closed = store.nextStatusChange(otherJobId, new AbortController().signal, 'pending');

    stop.abort();
    await aborted;
    await store.close();

    await expect(closed).resolves.toBeUndefined();
  });
});
