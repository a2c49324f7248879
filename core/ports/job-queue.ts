/** A message as a consumer receives it. */
export interface ReceivedMessage {
  readonly messageId: string;
  /** Identifies this delivery; needed to delete the message or change its visibility. */
  readonly receiptHandle: string;
  readonly body: string;
  /** How many times the message has been received, this delivery included (1 the first time). */
  readonly receiveCount: number;
  /** The key it was sent with, when it was sent with one. */
  readonly deduplicationKey?: string | undefined;
}

export interface SendOptions {
  /**
   * A second message with the same key within five minutes is accepted but not delivered
   * (SQS FIFO semantics). Job submission uses the job id, so a retried dispatcher never
   * queues a job twice.
   */
  readonly deduplicationKey?: string;
}

export interface ReceiveOptions {
  /** At most this many messages, 1 to 10; default 1. */
  readonly maxMessages?: number;
  /** Long polling: wait up to this many seconds (0 to 20) for a first message; default 20. */
  readonly waitTimeSeconds?: number;
  /** Hide the received messages for this long instead of the queue's default. */
  readonly visibilityTimeoutSeconds?: number;
  /** Stops waiting (returning what was received, possibly nothing). */
  readonly signal?: AbortSignal;
}

/**
 * A job queue with SQS semantics (DESIGN.md section 5): at-least-once delivery, a received
 * message is hidden for its visibility timeout and comes back unless deleted, each delivery
 * counts, and after the queue's maximum receive count the message moves to its dead-letter
 * queue instead of being delivered again.
 */
export interface JobQueue {
  /** The queue's name, for logs and metrics. */
  readonly name: string;
  send(body: string, options?: SendOptions): Promise<{ readonly messageId: string }>;
  receive(options?: ReceiveOptions): Promise<readonly ReceivedMessage[]>;
  /**
   * Hides a received message for `seconds` from now: a heartbeat extends it while a job runs,
   * and 0 hands the message back at once.
   */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Removes a received message for good, once its outcome is recorded. */
  delete(receiptHandle: string): Promise<void>;
  /** Approximate counts, for metrics and autoscaling. */
  depth(): Promise<QueueDepth>;
}

/** Approximate message counts of a queue. */
export interface QueueDepth {
  /** Ready to be received. */
  readonly visible: number;
  /** Received and not yet deleted or returned. */
  readonly inFlight: number;
}

/** The slice of a queue a job heartbeat needs. */
export type VisibilityExtender = Pick<JobQueue, 'changeVisibility'>;
