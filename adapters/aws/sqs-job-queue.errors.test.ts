/**
 * What fauxqs cannot show: SQS failures (throttling, 5xx, missing queues, denied or expired
 * credentials, expired receipt handles) and request details it does not check (id format,
 * which message attributes a receive asks for). The SDK client is mocked.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  RequestThrottled,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  JobPlaneOperationError,
  ReceiptHandleInvalidError,
} from '../../core/job-plane/job-plane-errors.js';
import { DEDUPLICATION_KEY_ATTRIBUTE, SqsJobQueue } from './sqs-job-queue.js';

const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/forge-tasks.fifo';

/** An SQS error as the SDK raises it. */
function sqsError(name: string, httpStatusCode: number, message = name): SQSServiceException {
  return new SQSServiceException({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

describe('SqsJobQueue error handling', () => {
  const client = new SQSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const sqs = mockClient(client);
  const waits: number[] = [];
  const queue = new SqsJobQueue({
    client,
    queueUrl,
    name: 'tasks',
    retry: {
      maxAttempts: 4,
      baseDelayMs: 10,
      jitterMs: 0,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    },
  });

  beforeEach(() => {
    sqs.reset();
    waits.length = 0;
  });

  it('retries throttling and a 5xx with growing waits, then succeeds', async () => {
    // Arrange
    sqs
      .on(ReceiveMessageCommand)
      .rejectsOnce(new RequestThrottled({ message: 'Rate exceeded', $metadata: {} }))
      .rejectsOnce(sqsError('ThrottlingException', 400))
      .rejectsOnce(sqsError('InternalError', 500))
      .resolves({
        Messages: [
          {
            MessageId: 'm-1',
            ReceiptHandle: 'h-1',
            Body: 'job',
            Attributes: { ApproximateReceiveCount: '2' },
          },
        ],
      });

    // Act
    const messages = await queue.receive({ waitTimeSeconds: 1 });

    // Assert
    expect(messages).toEqual([
      { messageId: 'm-1', receiptHandle: 'h-1', body: 'job', receiveCount: 2 },
    ]);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(4);
    expect(waits).toEqual([10, 20, 40]);
  });

  it('gives up after the last attempt with a retryable error naming the operation', async () => {
    // Arrange
    sqs.on(SendMessageCommand).rejects(sqsError('ServiceUnavailable', 503));

    // Act
    const sending = queue.send('job', { deduplicationKey: 'run-1/discovery' });

    // Assert
    await expect(sending).rejects.toBeInstanceOf(JobPlaneOperationError);
    await expect(sending).rejects.toMatchObject({
      operation: 'sqs:SendMessage',
      resource: queueUrl,
      retryable: true,
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(4);
  });

  it('sends the same deduplication id on every attempt', async () => {
    // Arrange
    sqs
      .on(SendMessageCommand)
      .rejectsOnce(sqsError('InternalError', 500))
      .resolves({ MessageId: 'm-1' });

    // Act
    await queue.send('job');

    // Assert
    const ids = sqs
      .commandCalls(SendMessageCommand)
      .map((call) => call.args[0].input.MessageDeduplicationId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
  });

  it.each([
    ['QueueDoesNotExist', new QueueDoesNotExist({ message: 'no queue', $metadata: {} })],
    ['AccessDenied (403)', sqsError('AccessDenied', 403, 'Access to the resource is denied.')],
    ['ExpiredTokenException (400)', sqsError('ExpiredTokenException', 400, 'token expired')],
    [
      'ExpiredToken without a status',
      new SQSServiceException({
        name: 'ExpiredToken',
        message: 'token expired',
        $fault: 'client',
        $metadata: {},
      }),
    ],
  ])('surfaces %s at once, naming the operation and the queue URL', async (_label, error) => {
    // Arrange
    sqs.on(GetQueueAttributesCommand).rejects(error);

    // Act
    const depth = queue.depth();

    // Assert
    await expect(depth).rejects.toBeInstanceOf(JobPlaneOperationError);
    await expect(depth).rejects.toMatchObject({
      operation: 'sqs:GetQueueAttributes',
      resource: queueUrl,
      retryable: false,
      cause: error,
    });
    await expect(depth).rejects.toThrow(queueUrl);
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it.each([
    ['ReceiptHandleIsInvalid', new ReceiptHandleIsInvalid({ message: 'bad', $metadata: {} })],
    [
      'an expired handle (InvalidParameterValue)',
      sqsError(
        'InvalidParameterValue',
        400,
        'Value h-1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.',
      ),
    ],
  ])('turns %s on delete into ReceiptHandleInvalidError', async (_label, error) => {
    // Arrange
    sqs.on(DeleteMessageCommand).rejects(error);

    // Act
    const deleting = queue.delete('h-1');

    // Assert
    await expect(deleting).rejects.toBeInstanceOf(ReceiptHandleInvalidError);
    await expect(deleting).rejects.toMatchObject({
      operation: 'sqs:DeleteMessage',
      receiptHandle: 'h-1',
      retryable: false,
    });
  });

  it('turns MessageNotInflight on a heartbeat into ReceiptHandleInvalidError', async () => {
    // Arrange
    sqs.on(ChangeMessageVisibilityCommand).rejects(sqsError('MessageNotInflight', 400));

    // Act
    const heartbeat = queue.changeVisibility('h-1', 60);

    // Assert
    await expect(heartbeat).rejects.toBeInstanceOf(ReceiptHandleInvalidError);
    await expect(heartbeat).rejects.toMatchObject({ operation: 'sqs:ChangeMessageVisibility' });
  });
});

describe('SqsJobQueue requests (details fauxqs accepts either way)', () => {
  const client = new SQSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const sqs = mockClient(client);
  const queue = new SqsJobQueue({ client, queueUrl, name: 'tasks' });

  beforeEach(() => {
    sqs.reset();
  });

  it('sends a key SQS accepts as the group and deduplication id, and as an attribute', async () => {
    // Arrange
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    await queue.send('job', { deduplicationKey: 'run-1/task/build/api' });

    // Assert
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: queueUrl,
      MessageGroupId: 'run-1/task/build/api',
      MessageDeduplicationId: 'run-1/task/build/api',
      MessageAttributes: {
        [DEDUPLICATION_KEY_ATTRIBUTE]: { DataType: 'String', StringValue: 'run-1/task/build/api' },
      },
    });
  });

  it('hashes a key SQS would refuse (too long, spaces) into a 64-character id', async () => {
    // Arrange
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const key = `run 1/${'x'.repeat(200)}`;

    // Act
    await queue.send('job', { deduplicationKey: key });

    // Assert
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(input?.MessageGroupId).toBe(input?.MessageDeduplicationId);
    expect(input?.MessageAttributes?.[DEDUPLICATION_KEY_ATTRIBUTE]?.StringValue).toBe(key);
  });

  it('asks a receive for the receive count and the key attribute, which SQS omits otherwise', async () => {
    // Arrange
    sqs.on(ReceiveMessageCommand).resolves({});

    // Act
    await queue.receive({ maxMessages: 4, waitTimeSeconds: 3, visibilityTimeoutSeconds: 60 });

    // Assert
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 4,
      WaitTimeSeconds: 3,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      MessageAttributeNames: [DEDUPLICATION_KEY_ATTRIBUTE],
    });
  });
});
