/**
 * The one contract of the `JobQueue` port (DESIGN.md sections 2 and 5), run unchanged against
 * every adapter: `adapters/embedded/embedded-job-queue.test.ts` and, on fauxqs,
 * `adapters/aws/sqs-job-queue.test.ts`. Each test gets fresh queues with a one-second
 * visibility timeout, so redelivery is observable in about a second; every wait is bounded.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it, type TestContext } from 'vitest';
import {
  JobPlaneOperationError,
  ReceiptHandleInvalidError,
} from '../../core/job-plane/job-plane-errors.js';
import type { QueueSettings } from '../../core/job-plane/queue-settings.js';
import type { JobQueue, ReceiveOptions, ReceivedMessage } from '../../core/ports/job-queue.js';

/** A queue under test with its dead-letter queue, and how to dispose of both. */
export interface JobQueueUnderTest {
  readonly queue: JobQueue;
  readonly deadLetters: JobQueue;
  cleanup(): Promise<void>;
}

/** Makes fresh, empty queues with `settings` (the dead-letter queue after `maxReceiveCount`). */
export type MakeJobQueue = (settings: QueueSettings) => Promise<JobQueueUnderTest>;

/** Production's three receives before dead-lettering, with timeouts short enough for tests. */
export const CONTRACT_QUEUE_SETTINGS: QueueSettings = {
  visibilityTimeoutSeconds: 1,
  retentionSeconds: 3600,
  maxReceiveCount: 3,
};

/** A per-receive visibility long enough that nothing comes back during a test. */
const HOLD_SECONDS = 30;

/** Declares the `JobQueue` contract for one adapter; `makeQueue` runs once per test. */
export function describeJobQueueContract(adapterName: string, makeQueue: MakeJobQueue): void {
  describe.concurrent(`JobQueue contract: ${adapterName}`, () => {
    async function arrange(context: TestContext): Promise<JobQueueUnderTest> {
      const subject = await makeQueue(CONTRACT_QUEUE_SETTINGS);
      context.onTestFinished(() => subject.cleanup());
      return subject;
    }

    it('delivers a sent message with its body, key and a first receive count', async (context) => {
      const { queue } = await arrange(context);
      const { messageId } = await queue.send('{"job":"a"}', {
        deduplicationKey: 'run-1/discovery',
      });

      const message = await receiveOne(context, queue);

      context.expect(message).toMatchObject({
        messageId,
        body: '{"job":"a"}',
        receiveCount: 1,
        deduplicationKey: 'run-1/discovery',
      });
    });

    it('long polling returns as soon as a message arrives', async (context) => {
      const { queue } = await arrange(context);
      const started = performance.now();

      const receiving = queue.receive({ waitTimeSeconds: 10 });
      await delay(200);
      await queue.send('wake-up');
      const messages = await receiving;

      context.expect(messages.map((message) => message.body)).toEqual(['wake-up']);
      context.expect(performance.now() - started).toBeLessThan(3000);
    });

    it('long polling waits its time and returns nothing when no message arrives', async (context) => {
      const { queue } = await arrange(context);
      const started = performance.now();

      const messages = await queue.receive({ waitTimeSeconds: 1 });

      context.expect(messages).toEqual([]);
      context.expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('hides a message until its visibility timeout, then delivers it again', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('not deleted');
      const first = await receiveOne(context, queue);
      const received = performance.now();

      const meanwhile = await queue.receive({ waitTimeSeconds: 0 });
      const again = await receiveOne(context, queue, { waitTimeSeconds: 5 });

      context.expect(meanwhile).toEqual([]);
      context.expect(performance.now() - received).toBeGreaterThanOrEqual(800);
      context.expect(again.messageId).toBe(first.messageId);
      context.expect(again.receiveCount).toBe(2);
      context.expect(again.receiptHandle).not.toBe(first.receiptHandle);
    });

    it('moves a message to the dead-letter queue after three receives', async (context) => {
      const { queue, deadLetters } = await arrange(context);
      const { messageId } = await queue.send('poison', { deduplicationKey: 'job-poison' });
      const counts: number[] = [];
      for (let receive = 1; receive <= 3; receive += 1) {
        const message = await receiveOne(context, queue);
        counts.push(message.receiveCount);
        await queue.changeVisibility(message.receiptHandle, 0);
      }

      const fourth = await queue.receive({ waitTimeSeconds: 1 });
      const dead = await receiveOne(context, deadLetters);

      context.expect(counts).toEqual([1, 2, 3]);
      context.expect(fourth).toEqual([]);
      context
        .expect(dead)
        .toMatchObject({ messageId, body: 'poison', deduplicationKey: 'job-poison' });
      context.expect(dead.receiveCount).toBeGreaterThan(3);
    });

    it('a heartbeat keeps a message hidden past its original timeout', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('long build');
      const message = await receiveOne(context, queue);
      await delay(400);

      await queue.changeVisibility(message.receiptHandle, 3);
      const extended = performance.now();
      await delay(1500);
      const meanwhile = await queue.receive({ waitTimeSeconds: 0 });
      const again = await receiveOne(context, queue, { waitTimeSeconds: 5 });

      context.expect(meanwhile).toEqual([]);
      context.expect(performance.now() - extended).toBeGreaterThanOrEqual(2700);
      context.expect(again.receiveCount).toBe(2);
    });

    it('changeVisibility 0 hands a message back at once', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('hand back');
      const message = await receiveOne(context, queue, { visibilityTimeoutSeconds: HOLD_SECONDS });

      await queue.changeVisibility(message.receiptHandle, 0);
      const again = await receiveOne(context, queue, { waitTimeSeconds: 0 });

      context.expect(again.messageId).toBe(message.messageId);
      context.expect(again.receiveCount).toBe(2);
    });

    it('drops a second send with the same deduplication key', async (context) => {
      const { queue } = await arrange(context);

      const first = await queue.send('first', { deduplicationKey: 'run-1/task/build/api' });
      const second = await queue.send('second', { deduplicationKey: 'run-1/task/build/api' });
      const messages = await queue.receive(holdAll({ waitTimeSeconds: 1 }));

      context.expect(second.messageId).toBe(first.messageId);
      context.expect(messages.map((message) => message.body)).toEqual(['first']);
    });

    it('still drops a repeated key after its message was deleted', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('once', { deduplicationKey: 'job-once' });
      const message = await receiveOne(context, queue);
      await queue.delete(message.receiptHandle);

      await queue.send('once again', { deduplicationKey: 'job-once' });
      const messages = await queue.receive({ waitTimeSeconds: 1 });

      context.expect(messages).toEqual([]);
    });

    it('deduplicates keys of any length and characters, and returns them as given', async (context) => {
      const { queue } = await arrange(context);
      const key = `run 42/task/${'very-long-phase '.repeat(12)}/project ü`;

      await queue.send('long key', { deduplicationKey: key });
      await queue.send('long key, again', { deduplicationKey: key });
      const messages = await queue.receive(holdAll({ waitTimeSeconds: 1 }));

      context.expect(messages).toHaveLength(1);
      context.expect(messages[0]?.deduplicationKey).toBe(key);
    });

    it('never deduplicates messages sent without a key', async (context) => {
      const { queue } = await arrange(context);

      const first = await queue.send('same body');
      const second = await queue.send('same body');
      const messages = await queue.receive(holdAll({ waitTimeSeconds: 1 }));

      context.expect(second.messageId).not.toBe(first.messageId);
      context.expect(messages).toHaveLength(2);
      context
        .expect(messages.map((message) => message.deduplicationKey))
        .toEqual([undefined, undefined]);
    });

    it('receives a batch of up to maxMessages', async (context) => {
      const { queue } = await arrange(context);
      const bodies = ['a', 'b', 'c', 'd', 'e'];
      for (const body of bodies) await queue.send(body, { deduplicationKey: `job-${body}` });

      const batch = await queue.receive(holdAll({ maxMessages: 3, waitTimeSeconds: 1 }));
      const rest = await queue.receive(holdAll({ waitTimeSeconds: 1 }));

      context.expect(batch).toHaveLength(3);
      context.expect(rest).toHaveLength(2);
      context.expect([...batch, ...rest].map((message) => message.body).sort()).toEqual(bodies);
    });

    it('delete removes a message for good', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('done');
      const message = await receiveOne(context, queue);

      await queue.delete(message.receiptHandle);
      const later = await queue.receive({ waitTimeSeconds: 2 });

      context.expect(later).toEqual([]);
      context.expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    });

    it('depth counts visible and in-flight messages', async (context) => {
      const { queue } = await arrange(context);
      const empty = await queue.depth();
      for (const body of ['a', 'b', 'c']) await queue.send(body);

      await receiveOne(context, queue, { visibilityTimeoutSeconds: HOLD_SECONDS });
      const depth = await queue.depth();

      context.expect(empty).toEqual({ visible: 0, inFlight: 0 });
      context.expect(depth).toEqual({ visible: 2, inFlight: 1 });
    });

    it('a receive with an aborted signal returns nothing promptly', async (context) => {
      const { queue } = await arrange(context);
      const started = performance.now();

      const messages = await queue.receive({
        waitTimeSeconds: 10,
        signal: AbortSignal.abort(),
      });

      context.expect(messages).toEqual([]);
      context.expect(performance.now() - started).toBeLessThan(1000);
    });

    it('aborting a waiting receive ends it with nothing', async (context) => {
      const { queue } = await arrange(context);
      const controller = new AbortController();
      const started = performance.now();

      const receiving = queue.receive({ waitTimeSeconds: 10, signal: controller.signal });
      await delay(100);
      controller.abort();
      const messages = await receiving;

      context.expect(messages).toEqual([]);
      context.expect(performance.now() - started).toBeLessThan(2000);
    });

    it('rejects the receipt handle of a deleted message', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('deleted');
      const message = await receiveOne(context, queue);
      await queue.delete(message.receiptHandle);

      const heartbeat = queue.changeVisibility(message.receiptHandle, 5);

      await context.expect(heartbeat).rejects.toBeInstanceOf(ReceiptHandleInvalidError);
      await context.expect(heartbeat).rejects.toMatchObject({ retryable: false });
    });

    it('a stale receipt handle never deletes the message delivered again', async (context) => {
      const { queue } = await arrange(context);
      await queue.send('slow consumer');
      const stale = await receiveOne(context, queue);
      const current = await receiveOne(context, queue, { waitTimeSeconds: 5 });

      // SQS FIFO rejects an expired handle; fauxqs, like SQS standard queues, ignores it.
      const outcome: unknown = await queue.delete(stale.receiptHandle).then(
        () => 'ignored',
        (error: unknown) => error,
      );
      await queue.changeVisibility(current.receiptHandle, 0);
      const again = await receiveOne(context, queue, { waitTimeSeconds: 0 });

      context
        .expect(outcome === 'ignored' || outcome instanceof ReceiptHandleInvalidError)
        .toBe(true);
      context.expect(again.messageId).toBe(stale.messageId);
      context.expect(again.receiveCount).toBe(3);
    });

    it('rejects what SQS rejects, as errors that a retry cannot fix', async (context) => {
      const { queue } = await arrange(context);
      const outcomes = await Promise.allSettled([
        queue.send(''),
        queue.receive({ maxMessages: 11 }),
        queue.receive({ waitTimeSeconds: 21 }),
        queue.receive({ visibilityTimeoutSeconds: -1 }),
      ]);

      for (const outcome of outcomes) {
        context.expect(outcome.status).toBe('rejected');
        const reason: unknown = outcome.status === 'rejected' ? outcome.reason : undefined;
        context.expect(reason).toBeInstanceOf(JobPlaneOperationError);
        context.expect(reason).toMatchObject({ retryable: false });
      }
    });
  });
}

/** Receives exactly one message (waiting up to 5 s unless told otherwise). */
async function receiveOne(
  context: TestContext,
  queue: JobQueue,
  options: ReceiveOptions = {},
): Promise<ReceivedMessage> {
  const messages = await queue.receive({ waitTimeSeconds: 5, ...options });
  context.expect(messages).toHaveLength(1);
  const [message] = messages;
  if (message === undefined) throw new Error('no message received');
  return message;
}

/** Receives up to ten messages and keeps them hidden for the rest of the test. */
function holdAll(options: ReceiveOptions): ReceiveOptions {
  return { maxMessages: 10, visibilityTimeoutSeconds: HOLD_SECONDS, ...options };
}
