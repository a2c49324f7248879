import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ForgeError, errorMessage } from '../../core/errors.js';
import {
  JobPlaneOperationError,
  ReceiptHandleInvalidError,
} from '../../core/job-plane/job-plane-errors.js';
import { MAX_LONG_POLL_SECONDS, MAX_RECEIVE_BATCH } from '../../core/job-plane/queue-settings.js';
import type {
  JobQueue,
  QueueDepth,
  ReceiveOptions,
  ReceivedMessage,
  SendOptions,
} from '../../core/ports/job-queue.js';
import { isTransientError, retry, type RetryOptions } from '../../core/retry.js';

/**
 * The message attribute that carries a deduplication key as the sender gave it: the SQS
 * deduplication id may be a hash of it, and a message sent without a key has a random one.
 */
export const DEDUPLICATION_KEY_ATTRIBUTE = 'forge-deduplication-key';

/** What SQS accepts as a deduplication or group id: 1 to 128 printable ASCII characters. */
const SQS_ID = /^[!-~]{1,128}$/;
/** SQS's longest visibility timeout (12 hours). */
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS throttling errors that come with HTTP 400 and no `$retryable`. */
const SQS_THROTTLING_ERRORS: ReadonlySet<string> = new Set(['RequestThrottled', 'KmsThrottled']);
/** Errors that say a receipt handle no longer names a delivery in flight. */
const RECEIPT_HANDLE_ERRORS: ReadonlySet<string> = new Set([
  'ReceiptHandleIsInvalid',
  'MessageNotInflight',
  'InvalidIdFormat',
]);

/** Options of {@link SqsJobQueue}. */
export interface SqsJobQueueOptions {
  /** A client the caller owns (and destroys); built with `sdkClientConfig`, so it never retries. */
  readonly client: SQSClient;
  /** The URL of a FIFO queue (`<name>.fifo`). */
  readonly queueUrl: string;
  /** The queue's name, for logs and metrics. */
  readonly name: string;
  /** Backoff for throttling, 5xx and network failures; core's `retry` defaults otherwise. */
  readonly retry?: Omit<RetryOptions, 'isRetryable' | 'signal'>;
}

/**
 * A {@link JobQueue} over an SQS FIFO queue. Every message is its own message group, so jobs
 * never wait for each other, and its deduplication id is the deduplication key (hashed when SQS
 * would refuse it), so a retried submission is dropped by SQS itself for five minutes. Transient
 * failures are retried with backoff; every SDK error leaves as a {@link JobPlaneOperationError}
 * naming the operation and the queue URL, or as a {@link ReceiptHandleInvalidError}.
 */
export class SqsJobQueue implements JobQueue {
  readonly name: string;
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #retry: Omit<RetryOptions, 'isRetryable' | 'signal'>;

  constructor(options: SqsJobQueueOptions) {
    this.name = options.name;
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#retry = options.retry ?? {};
  }

  /**
   * Sends `body` in its own message group. The deduplication id is fixed before the first
   * attempt, so a send retried after a lost response is dropped as a duplicate.
   */
  async send(body: string, options: SendOptions = {}): Promise<{ readonly messageId: string }> {
    const key = options.deduplicationKey;
    if (key === '') this.#reject('SendMessage', 'the deduplication key is empty');
    const id = key === undefined ? randomUUID() : sqsId(key);
    const output = await this.#call('SendMessage', () =>
      this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: body,
          MessageGroupId: id,
          MessageDeduplicationId: id,
          ...(key === undefined
            ? {}
            : {
                MessageAttributes: {
                  [DEDUPLICATION_KEY_ATTRIBUTE]: { DataType: 'String', StringValue: key },
                },
              }),
        }),
      ),
    );
    return { messageId: this.#required('SendMessage', 'MessageId', output.MessageId) };
  }

  /**
   * Long-polls for messages; an aborted `signal` cancels the request and returns nothing. SQS
   * (and fauxqs) may still hand a message to the abandoned poll, which then stays hidden for
   * its visibility timeout: a graceful shutdown lets a poll end (at most 20 s) instead.
   */
  async receive(options: ReceiveOptions = {}): Promise<readonly ReceivedMessage[]> {
    const action = 'ReceiveMessage';
    const maxMessages = options.maxMessages ?? 1;
    const waitSeconds = options.waitTimeSeconds ?? MAX_LONG_POLL_SECONDS;
    const { visibilityTimeoutSeconds, signal } = options;
    this.#checkInteger(action, 'maxMessages', maxMessages, 1, MAX_RECEIVE_BATCH);
    this.#checkInteger(action, 'waitTimeSeconds', waitSeconds, 0, MAX_LONG_POLL_SECONDS);
    if (visibilityTimeoutSeconds !== undefined) {
      this.#checkInteger(
        action,
        'visibilityTimeoutSeconds',
        visibilityTimeoutSeconds,
        0,
        MAX_VISIBILITY_TIMEOUT_SECONDS,
      );
    }
    if (isAborted(signal)) return [];
    try {
      const output = await this.#call(
        action,
        () =>
          this.#client.send(
            new ReceiveMessageCommand({
              QueueUrl: this.#queueUrl,
              MaxNumberOfMessages: maxMessages,
              WaitTimeSeconds: waitSeconds,
              VisibilityTimeout: visibilityTimeoutSeconds,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
              MessageAttributeNames: [DEDUPLICATION_KEY_ATTRIBUTE],
            }),
            { abortSignal: signal },
          ),
        { signal },
      );
      return (output.Messages ?? []).map((message) => this.#toReceived(message));
    } catch (error) {
      if (isAborted(signal)) return [];
      throw error;
    }
  }

  /** Hides a message in flight for `seconds` from now (a heartbeat); 0 hands it back. */
  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    const action = 'ChangeMessageVisibility';
    this.#checkInteger(action, 'seconds', seconds, 0, MAX_VISIBILITY_TIMEOUT_SECONDS);
    await this.#call(
      action,
      () =>
        this.#client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.#queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: seconds,
          }),
        ),
      { receiptHandle },
    );
  }

  /** Removes a message in flight for good. */
  async delete(receiptHandle: string): Promise<void> {
    await this.#call(
      'DeleteMessage',
      () =>
        this.#client.send(
          new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receiptHandle }),
        ),
      { receiptHandle },
    );
  }

  /** SQS's approximate counts of visible and in-flight messages. */
  async depth(): Promise<QueueDepth> {
    const { Attributes: attributes } = await this.#call('GetQueueAttributes', () =>
      this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      ),
    );
    return {
      visible: Number(attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Runs one SDK call with retries of transient failures, translating what it throws. */
  #call<T>(
    action: string,
    request: () => Promise<T>,
    context: { readonly signal?: AbortSignal | undefined; readonly receiptHandle?: string } = {},
  ): Promise<T> {
    const operation = `sqs:${action}`;
    return retry(
      async () => {
        try {
          return await request();
        } catch (error) {
          throw this.#translate(operation, error, context.receiptHandle);
        }
      },
      { ...this.#retry, ...(context.signal === undefined ? {} : { signal: context.signal }) },
    );
  }

  #translate(operation: string, error: unknown, receiptHandle: string | undefined): ForgeError {
    if (error instanceof ForgeError) return error;
    const { name, status } = errorDetails(error);
    const message = errorMessage(error);
    const handleRejected =
      RECEIPT_HANDLE_ERRORS.has(name) ||
      (name === 'InvalidParameterValue' && /receipt ?handle/i.test(message));
    if (receiptHandle !== undefined && handleRejected) {
      return new ReceiptHandleInvalidError(operation, this.#queueUrl, receiptHandle, {
        cause: error,
      });
    }
    const reason = `${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
    return new JobPlaneOperationError(operation, this.#queueUrl, reason, {
      cause: error,
      retryable: SQS_THROTTLING_ERRORS.has(name) || isTransientError(error),
    });
  }

  #toReceived(message: Message): ReceivedMessage {
    const count = Number(message.Attributes?.ApproximateReceiveCount);
    return {
      messageId: this.#required('ReceiveMessage', 'MessageId', message.MessageId),
      receiptHandle: this.#required('ReceiveMessage', 'ReceiptHandle', message.ReceiptHandle),
      body: message.Body ?? '',
      receiveCount: Number.isInteger(count) && count > 0 ? count : 1,
      deduplicationKey: message.MessageAttributes?.[DEDUPLICATION_KEY_ATTRIBUTE]?.StringValue,
    };
  }

  #required(action: string, field: string, value: string | undefined): string {
    if (value === undefined) this.#reject(action, `SQS answered without ${field}`);
    return value;
  }

  /** Checks a number locally, so a bad value fails before a request with a clear reason. */
  #checkInteger(action: string, field: string, value: number, min: number, max: number): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      this.#reject(action, `${field} must be an integer from ${min} to ${max}, got ${value}`);
    }
  }

  #reject(action: string, reason: string): never {
    throw new JobPlaneOperationError(`sqs:${action}`, this.#queueUrl, reason, { retryable: false });
  }
}

/** `key` itself when SQS accepts it as an id, otherwise its SHA-256 in hex. */
function sqsId(key: string): string {
  return SQS_ID.test(key) ? key : createHash('sha256').update(key).digest('hex');
}

/** A function, so the compiler does not assume an aborted flag stays what it was. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** An SDK error's name and HTTP status, read structurally. */
function errorDetails(error: unknown): { readonly name: string; readonly status?: number } {
  if (typeof error !== 'object' || error === null) return { name: 'Error' };
  const { name, $metadata: metadata } = error as {
    name?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const status = metadata?.httpStatusCode;
  return {
    name: typeof name === 'string' ? name : 'Error',
    ...(typeof status === 'number' ? { status } : {}),
  };
}
