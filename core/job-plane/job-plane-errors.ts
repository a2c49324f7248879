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
    reason: string,
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
