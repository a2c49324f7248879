import { createHash } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { RunStatusEvent } from '../../core/contracts/status-events.js';
import { commitKey } from '../../core/github/coalesce-events.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';
import { backoffDelay, type RetryOptions } from '../../core/retry.js';
import { callAws } from './aws-operation.js';

/** SQS's most entries per `SendMessageBatch`. */
const MAX_BATCH_ENTRIES = 10;
/** SQS's largest batch (and message): 256 KiB of bodies and attributes. */
const MAX_BATCH_BYTES = 256 * 1024;
/** Attempts for entries SQS refused inside an accepted batch (its own fault, not ours). */
const MAX_ENTRY_ATTEMPTS = 3;
/** What SQS accepts as a group or deduplication id. */
const SQS_ID = /^[!-~]{1,128}$/;

/** Options of {@link SqsStatusEventSink}. */
export interface SqsStatusEventSinkOptions {
  /** A client the caller owns, built with `sdkClientConfig` (this sink retries). */
  readonly client: SQSClient;
  /** The fan-out's queue; a FIFO queue (`.fifo`) keeps each commit's events in order. */
  readonly queueUrl: string;
  /** Backoff of throttling, 5xx and network failures; core `retry`'s defaults otherwise. */
  readonly retry?: Omit<RetryOptions, 'isRetryable' | 'signal'>;
}

/**
 * The {@link StatusEventSink} of the aws mode: each event is one SQS message (its JSON) on the
 * GitHub fan-out's queue, sent with `SendMessageBatch` in chunks of at most 10 entries and
 * 256 KiB. On a FIFO queue the message group is the commit (`owner/name@sha`, hashed when
 * longer than SQS allows), so the fan-out sees a commit's events in order and two fan-out
 * instances never update one pull request at once, and the deduplication id is
 * `<run_id>:<sequence>`, so an event published twice within five minutes is sent once.
 * Entries SQS refuses on its side are sent again; what still fails throws a
 * `JobPlaneOperationError` naming the queue.
 */
export class SqsStatusEventSink implements StatusEventSink {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #fifo: boolean;
  readonly #retry: Omit<RetryOptions, 'isRetryable' | 'signal'>;

  constructor(options: SqsStatusEventSinkOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#fifo = options.queueUrl.endsWith('.fifo');
    this.#retry = options.retry ?? {};
  }

  async publish(events: readonly RunStatusEvent[]): Promise<void> {
    const entries = events.map((event, index) => this.#entry(event, index));
    for (const chunk of chunks(entries, this.#queueUrl)) await this.#sendChunk(chunk);
  }

  #entry(event: RunStatusEvent, index: number): SendMessageBatchRequestEntry {
    return {
      Id: String(index),
      MessageBody: JSON.stringify(event),
      ...(this.#fifo
        ? {
            MessageGroupId: sqsId(commitKey(event)),
            MessageDeduplicationId: sqsId(`${event.run_id}:${event.sequence}`),
          }
        : {}),
    };
  }

  async #sendChunk(chunk: readonly SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = chunk;
    for (let attempt = 1; ; attempt++) {
      const output = await callAws(
        'sqs:SendMessageBatch',
        this.#queueUrl,
        () =>
          this.#client.send(
            new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: [...pending] }),
          ),
        this.#retry,
      );
      const failed = output.Failed ?? [];
      if (failed.length === 0) return;
      const ours = failed.find((entry) => entry.SenderFault);
      if (ours !== undefined || attempt >= MAX_ENTRY_ATTEMPTS) {
        const first = ours ?? failed[0];
        throw new JobPlaneOperationError(
          'sqs:SendMessageBatch',
          this.#queueUrl,
          `${failed.length} status events not sent: ${first?.Code}: ${first?.Message ?? ''}`,
          { retryable: ours === undefined },
        );
      }
      const retried = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => retried.has(entry.Id));
      await new Promise((resolve) =>
        setTimeout(resolve, backoffDelay(attempt, { baseDelayMs: 200, jitterMs: 100 })),
      );
    }
  }
}

/** Splits entries into batches SQS accepts; a single event over the limit is an error. */
function chunks(
  entries: readonly SendMessageBatchRequestEntry[],
  queueUrl: string,
): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '');
    if (size > MAX_BATCH_BYTES) {
      throw new JobPlaneOperationError(
        'sqs:SendMessageBatch',
        queueUrl,
        `a status event of ${size} bytes exceeds the SQS limit of ${MAX_BATCH_BYTES}`,
      );
    }
    if (current.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function sqsId(text: string): string {
  return SQS_ID.test(text) ? text : createHash('sha256').update(text).digest('hex');
}
