import { randomUUID } from 'node:crypto';
import {
  JobPlaneOperationError,
  ReceiptHandleInvalidError,
} from '../../core/job-plane/job-plane-errors.js';
import {
  MAX_LONG_POLL_SECONDS,
  MAX_RECEIVE_BATCH,
  type QueueSettings,
} from '../../core/job-plane/queue-settings.js';
import type {
  JobQueue,
  QueueDepth,
  ReceiveOptions,
  ReceivedMessage,
  SendOptions,
} from '../../core/ports/job-queue.js';

/** How long SQS FIFO remembers a deduplication key. */
const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
/** SQS's longest visibility timeout (12 hours). */
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS's largest message body (1 MiB). */
const MAX_BODY_BYTES = 1_048_576;

/** Options of {@link EmbeddedJobQueue}. */
export interface EmbeddedJobQueueOptions {
  /** The queue's name, for logs and errors. */
  readonly name: string;
  /** Visibility timeout, retention and maximum receive count, as for the SQS queue. */
  readonly settings: QueueSettings;
  /**
   * Where a message goes instead of being delivered again once it was received
   * `settings.maxReceiveCount` times (the SQS redrive policy); without one it is never moved.
   */
  readonly deadLetterQueue?: EmbeddedJobQueue;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly deduplicationKey: string | undefined;
  /** Monotonic milliseconds; retention counts from here (reset on a move to the DLQ, as FIFO). */
  enqueuedAt: number;
  receiveCount: number;
}

interface Delivery {
  readonly message: StoredMessage;
  /** Returns the message to the queue when its visibility timeout runs out. */
  timer: NodeJS.Timeout;
}

interface Waiter {
  readonly maxMessages: number;
  readonly visibilityTimeoutSeconds: number;
  settle(messages: ReceivedMessage[]): void;
}

/**
 * An in-process {@link JobQueue} with the semantics of the SQS FIFO queues of the AWS mode
 * (DESIGN.md section 2): visibility timeouts, receive counts, dead-lettering after the maximum
 * receive count, a five-minute deduplication window per key, retention, and long polling that
 * hands a message to a waiting receiver the moment it is sent or becomes visible again.
 * Nothing polls: visibility timeouts are timers, retention and deduplication expire lazily on
 * the monotonic clock. {@link EmbeddedJobQueue.close} releases waiting receivers and timers.
 */
export class EmbeddedJobQueue implements JobQueue {
  readonly name: string;
  readonly #settings: QueueSettings;
  readonly #deadLetterQueue: EmbeddedJobQueue | undefined;
  /** Visible messages, oldest first. */
  readonly #ready = new MessageLine();
  readonly #inFlight = new Map<string, Delivery>();
  /** Deduplication keys of the last five minutes, in the order they were recorded. */
  readonly #recentKeys = new Map<string, { readonly messageId: string; readonly until: number }>();
  /** Long-polling receivers, first come first served; only waiting while nothing is visible. */
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  constructor(options: EmbeddedJobQueueOptions) {
    this.name = options.name;
    this.#settings = options.settings;
    this.#deadLetterQueue = options.deadLetterQueue;
  }

  /** Queues `body`; a deduplication key seen in the last five minutes returns the first id. */
  send(body: string, options: SendOptions = {}): Promise<{ readonly messageId: string }> {
    return settle(() => {
      const operation = this.#openFor('SendMessage');
      const { deduplicationKey } = options;
      if (body.length === 0) this.#reject(operation, 'the message body is empty');
      if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
        this.#reject(operation, `the message body is larger than ${MAX_BODY_BYTES} bytes`);
      }
      if (deduplicationKey === '') this.#reject(operation, 'the deduplication key is empty');
      const now = performance.now();
      if (deduplicationKey !== undefined) {
        this.#forgetKeysBefore(now);
        const recent = this.#recentKeys.get(deduplicationKey);
        if (recent !== undefined) return { messageId: recent.messageId };
      }
      const messageId = randomUUID();
      if (deduplicationKey !== undefined) {
        this.#recentKeys.set(deduplicationKey, { messageId, until: now + DEDUPLICATION_WINDOW_MS });
      }
      this.#makeVisible({ messageId, body, deduplicationKey, enqueuedAt: now, receiveCount: 0 });
      return { messageId };
    });
  }

  /**
   * Returns visible messages at once, or waits up to `waitTimeSeconds` for the first one;
   * an aborted `signal` ends the wait with nothing.
   */
  receive(options: ReceiveOptions = {}): Promise<readonly ReceivedMessage[]> {
    return settle(() => {
      const operation = this.#openFor('ReceiveMessage');
      const { maxMessages = 1, waitTimeSeconds = MAX_LONG_POLL_SECONDS, signal } = options;
      const visibilitySeconds =
        options.visibilityTimeoutSeconds ?? this.#settings.visibilityTimeoutSeconds;
      this.#checkInteger(operation, 'maxMessages', maxMessages, 1, MAX_RECEIVE_BATCH);
      this.#checkInteger(operation, 'waitTimeSeconds', waitTimeSeconds, 0, MAX_LONG_POLL_SECONDS);
      this.#checkInteger(
        operation,
        'visibilityTimeoutSeconds',
        visibilitySeconds,
        0,
        MAX_VISIBILITY_TIMEOUT_SECONDS,
      );
      if (signal?.aborted === true) return [];
      const received = this.#take(maxMessages, visibilitySeconds);
      if (received.length > 0 || waitTimeSeconds === 0) return received;
      return this.#wait(maxMessages, visibilitySeconds, waitTimeSeconds, signal);
    });
  }

  /** Hides a message in flight for `seconds` from now; 0 makes it visible again at once. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    return settle(() => {
      const operation = this.#openFor('ChangeMessageVisibility');
      this.#checkInteger(operation, 'seconds', seconds, 0, MAX_VISIBILITY_TIMEOUT_SECONDS);
      const delivery = this.#delivery(operation, receiptHandle);
      clearTimeout(delivery.timer);
      if (seconds === 0) {
        this.#returnToQueue(receiptHandle);
      } else {
        delivery.timer = this.#hide(receiptHandle, seconds);
      }
    });
  }

  /** Removes a message in flight for good. */
  delete(receiptHandle: string): Promise<void> {
    return settle(() => {
      const delivery = this.#delivery(this.#openFor('DeleteMessage'), receiptHandle);
      clearTimeout(delivery.timer);
      this.#inFlight.delete(receiptHandle);
    });
  }

  /** Exact counts: visible messages within retention, and messages in flight. */
  depth(): Promise<QueueDepth> {
    return settle(() => {
      this.#openFor('GetQueueAttributes');
      const now = performance.now();
      this.#ready.removeWhere((message) => this.#outlived(message, now));
      return { visible: this.#ready.length, inFlight: this.#inFlight.size };
    });
  }

  /**
   * Stops the queue: waiting receivers get nothing, timers are cleared, messages are dropped,
   * and every later call fails. Idempotent. The dead-letter queue is closed by its owner.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.settle([]);
    for (const delivery of this.#inFlight.values()) clearTimeout(delivery.timer);
    this.#inFlight.clear();
    this.#ready.removeWhere(() => true);
    this.#recentKeys.clear();
    return Promise.resolve();
  }

  /** Delivers up to `maxMessages` visible messages, dead-lettering those out of receives. */
  #take(maxMessages: number, visibilitySeconds: number): ReceivedMessage[] {
    const received: ReceivedMessage[] = [];
    const now = performance.now();
    while (received.length < maxMessages) {
      const message = this.#ready.shift();
      if (message === undefined) break;
      if (this.#outlived(message, now)) continue;
      const deadLetterQueue = this.#deadLetterQueue;
      if (deadLetterQueue !== undefined && message.receiveCount >= this.#settings.maxReceiveCount) {
        deadLetterQueue.#admitDeadLetter(message, now);
        continue;
      }
      message.receiveCount += 1;
      const receiptHandle = randomUUID();
      this.#inFlight.set(receiptHandle, {
        message,
        timer: this.#hide(receiptHandle, visibilitySeconds),
      });
      received.push({
        messageId: message.messageId,
        receiptHandle,
        body: message.body,
        receiveCount: message.receiveCount,
        deduplicationKey: message.deduplicationKey,
      });
    }
    return received;
  }

  #wait(
    maxMessages: number,
    visibilityTimeoutSeconds: number,
    waitSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<ReceivedMessage[]> {
    return new Promise((resolve) => {
      const onAbort = (): void => waiter.settle([]);
      const timer = setTimeout(onAbort, waitSeconds * 1000);
      const waiter: Waiter = {
        maxMessages,
        visibilityTimeoutSeconds,
        settle: (messages) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#waiters.delete(waiter);
          resolve(messages);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Takes a message moved here from the queue this one is the dead-letter queue of. */
  #admitDeadLetter(message: StoredMessage, now: number): void {
    if (this.#closed) return;
    message.enqueuedAt = now;
    this.#makeVisible(message);
  }

  #makeVisible(message: StoredMessage): void {
    this.#ready.push(message);
    for (const waiter of this.#waiters) {
      if (this.#ready.length === 0) return;
      const messages = this.#take(waiter.maxMessages, waiter.visibilityTimeoutSeconds);
      if (messages.length > 0) waiter.settle(messages);
    }
  }

  #hide(receiptHandle: string, seconds: number): NodeJS.Timeout {
    return setTimeout(() => this.#returnToQueue(receiptHandle), seconds * 1000).unref();
  }

  #returnToQueue(receiptHandle: string): void {
    const delivery = this.#inFlight.get(receiptHandle);
    if (delivery === undefined) return;
    this.#inFlight.delete(receiptHandle);
    if (!this.#outlived(delivery.message, performance.now())) this.#makeVisible(delivery.message);
  }

  #delivery(operation: string, receiptHandle: string): Delivery {
    const delivery = this.#inFlight.get(receiptHandle);
    if (delivery === undefined)
      throw new ReceiptHandleInvalidError(operation, this.name, receiptHandle);
    return delivery;
  }

  #outlived(message: StoredMessage, now: number): boolean {
    return now - message.enqueuedAt >= this.#settings.retentionSeconds * 1000;
  }

  /** Drops keys older than the window; the map is in time order, so the old ones lead. */
  #forgetKeysBefore(now: number): void {
    for (const [key, recent] of this.#recentKeys) {
      if (recent.until > now) return;
      this.#recentKeys.delete(key);
    }
  }

  #openFor(action: string): string {
    const operation = `embedded:${action}`;
    if (this.#closed) this.#reject(operation, 'the queue is closed');
    return operation;
  }

  #checkInteger(operation: string, field: string, value: number, min: number, max: number): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      this.#reject(operation, `${field} must be an integer from ${min} to ${max}, got ${value}`);
    }
  }

  #reject(operation: string, reason: string): never {
    throw new JobPlaneOperationError(operation, this.name, reason, { retryable: false });
  }
}

/** Runs `work` now and returns its result as a promise, a throw as a rejection. */
function settle<T>(work: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}

/** A first-in first-out line of messages with O(1) push and shift. */
class MessageLine {
  #items: (StoredMessage | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(message: StoredMessage): void {
    this.#items.push(message);
  }

  shift(): StoredMessage | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const message = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }

  removeWhere(predicate: (message: StoredMessage) => boolean): void {
    this.#items = this.#items
      .slice(this.#head)
      .filter((message) => message !== undefined && !predicate(message));
    this.#head = 0;
  }
}
