/**
 * The one contract of the `JobChangeFeed` port (DESIGN.md sections 2 and 5), run unchanged
 * against every feed: the embedded job store's (`adapters/embedded/embedded-job-store.test.ts`)
 * and the DynamoDB stream poller on DynamoDB Local (`adapters/aws/dynamo-job-store.test.ts`).
 * A feed may carry other tests' changes (a shared table read from its oldest record), so each
 * test looks at its own run's records only; every wait is bounded.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, it, type TestContext } from 'vitest';
import type {
  AttributeMap,
  JobStreamEvent,
  JobStreamRecord,
  StreamBatchResponse,
} from '../../core/contracts/job-stream.js';
import { JobRecordSchema, taskJobId, type JobRecord } from '../../core/contracts/jobs.js';
import type { ChangeDeliveryOptions } from '../../core/job-plane/change-feed-delivery.js';
import type { JobChangeFeed, JobStore } from '../../core/ports/job-store.js';

/** A feed under test with the store whose changes it carries, and how to dispose of both. */
export interface JobChangeFeedUnderTest {
  readonly store: JobStore;
  readonly feed: JobChangeFeed;
  cleanup(): Promise<void>;
}

/** Makes a feed (unsubscribed) over a store; configure it with {@link CONTRACT_DELIVERY}. */
export type MakeJobChangeFeed = () => Promise<JobChangeFeedUnderTest>;

/** The redelivery every feed under this contract is configured with: quick, three attempts. */
export const CONTRACT_DELIVERY: ChangeDeliveryOptions = {
  maxAttempts: 3,
  backoff: { baseDelayMs: 10, maxDelayMs: 50, jitterMs: 0 },
};

const WAIT_MS = 20_000;

/** Declares the `JobChangeFeed` contract for one feed; `makeFeed` runs once per test. */
export function describeJobChangeFeedContract(
  adapterName: string,
  makeFeed: MakeJobChangeFeed,
): void {
  describe(`JobChangeFeed contract: ${adapterName}`, () => {
    async function arrange(context: TestContext) {
      const subject = await makeFeed();
      context.onTestFinished(() => subject.cleanup());
      const runId = `run-${randomUUID().slice(0, 8)}`;
      return { ...subject, runId, jobId: taskJobId(runId, 'build', 'api') };
    }

    it("carries a job's life as INSERT then MODIFY records with old and new images, in order", async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      const recorder = new FeedRecorder(runId);
      context.onTestFinished(feed.subscribe(recorder.handler));
      const markerId = taskJobId(runId, 'build', 'zz-marker');

      const written: JobRecord[] = [];
      const created = await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      if (created.created) written.push(created.record);
      written.push((await store.transition(jobId, 'running', { worker_id: 'worker-1' })).record);
      written.push((await store.updateStep(jobId, 'compile', { status: 'running' })).record);
      written.push((await store.transition(jobId, 'completed')).record);
      await store.transition(jobId, 'running');
      await store.requestCancel(jobId);
      await store.create({ job_id: markerId, run_id: runId, type: 'task' });
      await recorder.waitFor((accepted) => accepted.some((record) => jobIdOf(record) === markerId));

      const records = recorder.accepted.filter((record) => jobIdOf(record) === jobId);
      context
        .expect(records.map((record) => record.eventName))
        .toEqual(['INSERT', 'MODIFY', 'MODIFY', 'MODIFY']);
      context.expect(records.map((record) => imageOf(record.dynamodb.NewImage))).toEqual(written);
      context
        .expect(records.map((record) => imageOf(record.dynamodb.OldImage)))
        .toEqual([undefined, ...written.slice(0, -1)]);
      for (const record of records) {
        context.expect(record).toMatchObject({
          eventSource: 'aws:dynamodb',
          dynamodb: { Keys: { job_id: { S: jobId } }, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        });
      }
      const sequence = records.map((record) => BigInt(record.dynamodb.SequenceNumber));
      context.expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
      context.expect(new Set(sequence).size).toBe(sequence.length);
      context.expect(new Set(records.map((record) => record.eventID)).size).toBe(records.length);
    });

    it('delivers again from the first failed record, with the records after it', async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      await writeJobLife(store, runId, jobId);
      let failedOnce = false;
      const recorder = new FeedRecorder(runId, (mine) => {
        const running = mine.find(isModifyTo('running'));
        if (failedOnce || running === undefined) return undefined;
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: running.eventID }] };
      });

      context.onTestFinished(feed.subscribe(recorder.handler));
      await recorder.waitFor((accepted) => accepted.some(isModifyTo('completed')));

      const failing = recorder.events.findIndex((event) =>
        event.Records.some(isModifyTo('running', runId)),
      );
      const failedEvent = recorder.events[failing];
      const retried = recorder.events[failing + 1];
      const failedAt = failedEvent?.Records.findIndex(isModifyTo('running', runId)) ?? -1;
      context.expect(retried?.Records[0]?.eventID).toBe(failedEvent?.Records[failedAt]?.eventID);
      const after = failedEvent?.Records.slice(failedAt).map((record) => record.eventID) ?? [];
      context
        .expect(retried?.Records.slice(0, after.length).map((record) => record.eventID))
        .toEqual(after);
      context
        .expect(recorder.accepted.map(describeRecord))
        .toEqual(['INSERT', 'MODIFY running', 'MODIFY completed']);
    });

    it('delivers the whole batch again when the handler throws', async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      await writeJobLife(store, runId, jobId);
      let thrown = false;
      const recorder = new FeedRecorder(runId, (mine) => {
        if (thrown || mine.length === 0) return undefined;
        thrown = true;
        throw new Error('the database is unavailable');
      });

      context.onTestFinished(feed.subscribe(recorder.handler));
      await recorder.waitFor((accepted) => accepted.some(isModifyTo('completed')));

      const failing = recorder.events.findIndex((event) => event.Records.some(isMine(runId)));
      context
        .expect(recorder.events[failing + 1]?.Records[0]?.eventID)
        .toBe(recorder.events[failing]?.Records[0]?.eventID);
      context
        .expect(recorder.accepted.map(describeRecord))
        .toEqual(['INSERT', 'MODIFY running', 'MODIFY completed']);
    });

    it('skips a record that keeps failing after the last attempt, and goes on', async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      await writeJobLife(store, runId, jobId);
      const recorder = new FeedRecorder(runId, (mine) => {
        const running = mine.find(isModifyTo('running'));
        return running === undefined
          ? undefined
          : { batchItemFailures: [{ itemIdentifier: running.eventID }] };
      });

      context.onTestFinished(feed.subscribe(recorder.handler));
      await recorder.waitFor((accepted) => accepted.some(isModifyTo('completed')));

      const deliveriesOfRunning = recorder.events.filter((event) =>
        event.Records.some(isModifyTo('running', runId)),
      );
      context.expect(deliveriesOfRunning).toHaveLength(CONTRACT_DELIVERY.maxAttempts ?? 0);
      context.expect(recorder.accepted.map(describeRecord)).toEqual(['INSERT', 'MODIFY completed']);
    });

    it('never makes a writer wait for the handler', async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const recorder = new FeedRecorder(runId, async (mine) => {
        if (mine.length > 0) await released;
      });
      context.onTestFinished(feed.subscribe(recorder.handler));

      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await recorder.waitFor((_, delivered) => delivered.length > 0);
      await store.transition(jobId, 'running');
      await store.transition(jobId, 'completed');
      release();

      await recorder.waitFor((accepted) => accepted.some(isModifyTo('completed')));
      context
        .expect(recorder.accepted.map(describeRecord))
        .toEqual(['INSERT', 'MODIFY running', 'MODIFY completed']);
    });

    it('delivers nothing once unsubscribed', async (context) => {
      const { store, feed, runId, jobId } = await arrange(context);
      const recorder = new FeedRecorder(runId);
      const unsubscribe = feed.subscribe(recorder.handler);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await recorder.waitFor((accepted) => accepted.length > 0);

      await unsubscribe();
      const deliveries = recorder.events.length;
      await store.transition(jobId, 'running');
      await delay(300);

      context.expect(recorder.events).toHaveLength(deliveries);
      await unsubscribe();
    });
  });
}

/** Creates a job and runs it to completion: INSERT, MODIFY running, MODIFY completed. */
async function writeJobLife(store: JobStore, runId: string, jobId: string): Promise<void> {
  await store.create({ job_id: jobId, run_id: runId, type: 'task' });
  await store.transition(jobId, 'running');
  await store.transition(jobId, 'completed');
}

type Respond = (
  mine: readonly JobStreamRecord[],
) => StreamBatchResponse | void | undefined | Promise<StreamBatchResponse | void | undefined>;

/**
 * A handler that keeps every batch it saw (`events`, all records) and the records of one run it
 * accepted (`accepted`: those before the first record it reported failed, all when it threw
 * none), and answers as `respond` says.
 */
class FeedRecorder {
  readonly events: JobStreamEvent[] = [];
  readonly accepted: JobStreamRecord[] = [];

  constructor(
    private readonly runId: string,
    private readonly respond: Respond = () => undefined,
  ) {}

  readonly handler = async (event: JobStreamEvent): Promise<StreamBatchResponse | void> => {
    this.events.push(event);
    const mine = event.Records.filter(isMine(this.runId));
    const response = (await this.respond(mine)) ?? undefined;
    const failed = new Set(response?.batchItemFailures.map((failure) => failure.itemIdentifier));
    const firstFailed = event.Records.findIndex((record) => failed.has(record.eventID));
    const done = firstFailed === -1 ? event.Records : event.Records.slice(0, firstFailed);
    this.accepted.push(...done.filter(isMine(this.runId)));
    return response;
  };

  /** Waits until `condition` holds for the accepted records (and every delivered one). */
  async waitFor(
    condition: (
      accepted: readonly JobStreamRecord[],
      delivered: readonly JobStreamRecord[],
    ) => boolean,
  ): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (
      !condition(
        this.accepted,
        this.events.flatMap((event) => event.Records.filter(isMine(this.runId))),
      )
    ) {
      if (Date.now() > deadline) throw new Error(`the feed did not deliver within ${WAIT_MS} ms`);
      await delay(10);
    }
  }
}

function imageOf(image: AttributeMap | undefined): JobRecord | undefined {
  if (image === undefined) return undefined;
  return JobRecordSchema.parse(unmarshall(image as Record<string, SdkAttributeValue>));
}

function recordImage(record: JobStreamRecord): JobRecord | undefined {
  return imageOf(record.dynamodb.NewImage ?? record.dynamodb.OldImage);
}

function jobIdOf(record: JobStreamRecord): string | undefined {
  return recordImage(record)?.job_id;
}

function isMine(runId: string): (record: JobStreamRecord) => boolean {
  return (record) => recordImage(record)?.run_id === runId;
}

function isModifyTo(
  status: JobRecord['status'],
  runId?: string,
): (record: JobStreamRecord) => boolean {
  return (record) => {
    const image = imageOf(record.dynamodb.NewImage);
    return (
      record.eventName === 'MODIFY' &&
      image?.status === status &&
      (runId === undefined || image.run_id === runId)
    );
  };
}

function describeRecord(record: JobStreamRecord): string {
  return record.eventName === 'MODIFY'
    ? `MODIFY ${imageOf(record.dynamodb.NewImage)?.status}`
    : record.eventName;
}
