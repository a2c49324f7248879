import { ForgeError } from '../errors.js';

/**
 * The root of the job plane's errors (queues, job store, blobs, secrets). Adapters translate
 * their SDK's errors into these, naming the operation and the resource, so nothing above an
 * adapter ever sees an SDK type.
 */
export class JobPlaneError extends ForgeError {}

/** A backend call failed; `retryable` says whether trying again may help. */
export class JobPlaneOperationError extends JobPlaneError {
  constructor(
    readonly operation: string,
    readonly resource: string,
    /** What went wrong, without the operation and resource the message adds. */
    readonly reason: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(`${operation} on ${resource} failed: ${reason}`, options);
  }
}

/** No job has this id. */
export class JobNotFoundError extends JobPlaneError {
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found`);
  }
}

/** No secret exists at this path. */
export class SecretNotFoundError extends JobPlaneError {
  constructor(readonly path: string) {
    super(`secret ${path} not found`);
  }
}

/**
 * A receipt handle no longer names a delivery in flight: the message's visibility timeout ran
 * out (it may since have been delivered again, with a new handle), it was deleted, or the handle
 * belongs to another queue. Never retryable: the holder has lost the message, and a job store
 * that ignores late updates makes its next delivery harmless.
 */
export class ReceiptHandleInvalidError extends JobPlaneOperationError {
  constructor(
    operation: string,
    resource: string,
    readonly receiptHandle: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      operation,
      resource,
      'the receipt handle is no longer valid (visibility timeout expired or message deleted)',
      { ...options, retryable: false },
    );
  }
}
