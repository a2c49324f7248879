import {
  CreateQueueCommand,
  DeleteQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import { SqsStatusEventSink } from '../../adapters/aws/sqs-status-event-sink.js';
import { RunStatusEventSchema, type RunStatusEvent } from '../../core/contracts/status-events.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { statusEvent } from '../../core/github/testing/status-event-fixture.js';
import { localAwsClientConfig, uniqueResourceName } from '../support/local-aws.js';

const sqs = new SQSClient(sdkClientConfig(localAwsClientConfig('sqs')));
const queues: string[] = [];

afterEach(async () => {
  for (const url of queues.splice(0)) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
});
afterAll(() => sqs.destroy());

async function createQueue(fifo: boolean): Promise<string> {
  const name = uniqueResourceName('github-status');
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: fifo ? `${name}.fifo` : name,
      Attributes: fifo ? { FifoQueue: 'true' } : {},
    }),
  );
  queues.push(QueueUrl as string);
  return QueueUrl as string;
}

/**
 * Receives (and deletes) until `expected` messages arrived and one more poll found nothing (so
 * extra messages would show), for at most 15 polls.
 */
async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const received: Message[] = [];
  for (let poll = 0; poll < 15; poll++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    received.push(...Messages);
    if (Messages.length === 0 && received.length >= expected) break;
    if (Messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
  }
  return received;
}

/** 23 events: three commits, the sequences of each in order. */
function manyEvents(): RunStatusEvent[] {
  return Array.from({ length: 23 }, (_, index) =>
    statusEvent({
      commit_sha: String(index % 3).repeat(40),
      sequence: index,
      tasks: [
        { phase: 'build', group: 1, project: `p-${index}`, status: 'running', duration_ms: null },
      ],
    }),
  );
}

describe('SqsStatusEventSink on fauxqs', () => {
  it('sends every event as one message on a FIFO queue, grouped by commit, deduplicated', async () => {
    const queueUrl = await createQueue(true);
    const sink = new SqsStatusEventSink({ client: sqs, queueUrl });
    const events = manyEvents();

    await sink.publish(events);
    await sink.publish(events.slice(0, 5));

    const messages = await receiveAll(queueUrl, events.length);
    expect(messages).toHaveLength(events.length);
    const bodies = messages.map((message) =>
      RunStatusEventSchema.parse(JSON.parse(message.Body ?? '')),
    );
    expect(bodies.map((event) => event.sequence).sort((a, b) => a - b)).toEqual(
      events.map((e) => e.sequence),
    );
    expect(bodies).toContainEqual(events[7]);
    const groupOf = (message: Message) => message.Attributes?.MessageGroupId;
    expect(new Set(messages.map(groupOf))).toEqual(
      new Set(['0', '1', '2'].map((digit) => `acme/widgets@${digit.repeat(40)}`)),
    );
    const firstGroup = messages.filter(
      (message) => groupOf(message) === `acme/widgets@${'0'.repeat(40)}`,
    );
    const sequences = firstGroup.map(
      (message) => (JSON.parse(message.Body ?? '') as RunStatusEvent).sequence,
    );
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it('sends to a standard queue without group or deduplication ids', async () => {
    const queueUrl = await createQueue(false);
    const sink = new SqsStatusEventSink({ client: sqs, queueUrl });

    await sink.publish(manyEvents().slice(0, 12));

    const messages = await receiveAll(queueUrl, 12);
    expect(messages).toHaveLength(12);
    expect(messages.every((message) => message.Attributes?.MessageGroupId === undefined)).toBe(
      true,
    );
  });

  it('fails naming the queue when it does not exist', async () => {
    const queueUrl = `${await createQueue(false)}-missing`;
    const sink = new SqsStatusEventSink({ client: sqs, queueUrl, retry: { maxAttempts: 1 } });

    const failure = sink.publish([statusEvent()]);

    await expect(failure).rejects.toBeInstanceOf(JobPlaneOperationError);
    await expect(failure).rejects.toThrow(queueUrl);
  });
});
