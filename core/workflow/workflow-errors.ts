import { ForgeError } from '../errors.js';

/**
 * The root of the errors of rendering, submitting and stopping a run's workflow, whatever the
 * engine. Callers branch on the subclass and on `retryable`.
 */
export class WorkflowError extends ForgeError {}

/** The run cannot become a workflow (an id Kubernetes cannot name, a malformed commit, ...). */
export class WorkflowRunInvalidError extends WorkflowError {}

/**
 * The engine could not be reached or was overloaded (a network failure, 429, 5xx): the same
 * request may succeed later.
 */
export class WorkflowEngineUnavailableError extends WorkflowError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true });
  }
}

/**
 * The engine refused the request (unauthorized, forbidden, invalid, a name taken by another
 * run): sending it again will not help. `status` is the HTTP status, when there was one.
 */
export class WorkflowEngineRejectedError extends WorkflowError {
  constructor(
    message: string,
    readonly status: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, retryable: false });
  }
}
