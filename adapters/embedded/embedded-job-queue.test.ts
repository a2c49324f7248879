import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEAD_LETTER_RETENTION_SECONDS } from '../../core/job-plane/queue-settings.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import {
  CONTRACT_QUEUE_SETTINGS,
  describeJobQueueContract,
} from '../../test/contracts/job-queue.contract.js';
import { EmbeddedJobQueue } from './embedded-job-queue.js';

describeJobQueueContract('EmbeddedJobQueue', (settings) => {
  const deadLetters = new EmbeddedJobQueue({
    name: 'contract-dlq',
    settings: { ...settings, retentionSeconds: DEAD_LETTER_RETENTION_SECONDS },
  });
  const queue = new EmbeddedJobQueue({ name: 'contract', settings, deadLetterQueue: deadLetters });
  return Promise.resolve({
    queue,
    deadLetters,
    cleanup: async () => {
      await queue.close();
      await deadLetters.close();
    },
  });
});

// What fauxqs cannot show in a contract run: SQS retention is at least 60 s and fauxqs does not
// expire messages, and the deduplication window is five minutes. Fake timers move the clock.
describe('EmbeddedJobQueue on a fake clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops messages older than the retention period', async () => {
    vi.useFakeTimers();
    const queue = new EmbeddedJobQueue({
      name: 'retention',
      settings: { ...CONTRACT_QUEUE_SETTINGS, retentionSeconds: 60 },
    });
    await queue.send('old');
    vi.advanceTimersByTime(30_000);
    await queue.send('young');

    vi.advanceTimersByTime(30_000);
    const depth = await queue.depth();
    const messages = await queue.receive({ maxMessages: 10, waitTimeSeconds: 0 });

    expect(depth).toEqual({ visible: 1, inFlight: 0 });
    expect(messages.map((message) => message.body)).toEqual(['young']);
    await queue.close();
  });

  it('accepts a deduplication key again after five minutes', async () => {
    vi.useFakeTimers();
    const queue = new EmbeddedJobQueue({ name: 'window', settings: CONTRACT_QUEUE_SETTINGS });
    const first = await queue.send('first', { deduplicationKey: 'job-1' });
    vi.advanceTimersByTime(4 * 60_000);
    const duplicate = await queue.send('duplicate', { deduplicationKey: 'job-1' });

    vi.advanceTimersByTime(60_000);
    const later = await queue.send('later', { deduplicationKey: 'job-1' });
    const messages = await queue.receive({ maxMessages: 10, waitTimeSeconds: 0 });

    expect(duplicate.messageId).toBe(first.messageId);
    expect(later.messageId).not.toBe(first.messageId);
    expect(messages.map((message) => message.body)).toEqual(['first', 'later']);
    await queue.close();
  });

  it('restarts retention when a message moves to the dead-letter queue', async () => {
    vi.useFakeTimers();
    const deadLetters = new EmbeddedJobQueue({
      name: 'dlq',
      settings: { ...CONTRACT_QUEUE_SETTINGS, retentionSeconds: 60 },
    });
    const queue = new EmbeddedJobQueue({
      name: 'source',
      settings: { ...CONTRACT_QUEUE_SETTINGS, retentionSeconds: 3600, maxReceiveCount: 1 },
      deadLetterQueue: deadLetters,
    });
    await queue.send('poison');
    vi.advanceTimersByTime(120_000);
    const [message] = await queue.receive({ waitTimeSeconds: 0 });
    await queue.changeVisibility(message?.receiptHandle ?? '', 0);

    await queue.receive({ waitTimeSeconds: 0 });
    vi.advanceTimersByTime(30_000);
    const depth = await deadLetters.depth();

    expect(depth).toEqual({ visible: 1, inFlight: 0 });
    await queue.close();
    await deadLetters.close();
  });

  it('returns an expired message to a receiver already waiting for it', async () => {
    vi.useFakeTimers();
    const queue = new EmbeddedJobQueue({ name: 'timers', settings: CONTRACT_QUEUE_SETTINGS });
    await queue.send('job');
    await queue.receive({ waitTimeSeconds: 0, visibilityTimeoutSeconds: 5 });
    const waiting = queue.receive({ waitTimeSeconds: 20 });

    await vi.advanceTimersByTimeAsync(5_000);
    const messages = await waiting;

    expect(messages.map((message) => message.receiveCount)).toEqual([2]);
    await queue.close();
  });
});

describe('EmbeddedJobQueue.close', () => {
  it('releases waiting receivers with nothing and refuses later calls', async () => {
    const queue = new EmbeddedJobQueue({ name: 'closing', settings: CONTRACT_QUEUE_SETTINGS });
    const waiting = queue.receive({ waitTimeSeconds: 20 });

    await queue.close();
    await queue.close();

    expect(await waiting).toEqual([]);
    await expect(queue.send('late')).rejects.toBeInstanceOf(JobPlaneOperationError);
    await expect(queue.receive()).rejects.toThrow('the queue is closed');
  });

  it('clears visibility timers of messages in flight', async () => {
    const queue = new EmbeddedJobQueue({ name: 'in-flight', settings: CONTRACT_QUEUE_SETTINGS });
    await queue.send('job');
    await queue.receive({ waitTimeSeconds: 0, visibilityTimeoutSeconds: 1 });

    await queue.close();

    await expect(queue.depth()).rejects.toBeInstanceOf(JobPlaneOperationError);
  });
});
