import { ApiException } from '@kubernetes/client-node';
import { errorMessage } from '../../core/errors.js';
import { isTransientError } from '../../core/retry.js';
import {
  WorkflowEngineRejectedError,
  WorkflowEngineUnavailableError,
  type WorkflowError,
} from '../../core/workflow/workflow-errors.js';

/** The HTTP status of a Kubernetes API error, when the API answered. */
export function kubernetesStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * Maps a failure of the Kubernetes client to the workflow error family: 429 and 5xx answers
 * and network failures are {@link WorkflowEngineUnavailableError} (retryable); other answers
 * (401, 403, 404, 422, ...) and anything unknown are {@link WorkflowEngineRejectedError}. The
 * message names what was attempted and carries the API's own `Status` message.
 */
export function workflowEngineError(error: unknown, attempted: string): WorkflowError {
  if (error instanceof ApiException) {
    const status = error.code;
    const message = `${attempted}: the Kubernetes API answered ${status}${statusMessage(error.body)}`;
    if (status === 429 || status >= 500) {
      return new WorkflowEngineUnavailableError(message, { cause: error });
    }
    return new WorkflowEngineRejectedError(message, status, { cause: error });
  }
  const message = `${attempted}: ${errorMessage(error)}`;
  if (isTransientError(error)) return new WorkflowEngineUnavailableError(message, { cause: error });
  return new WorkflowEngineRejectedError(message, undefined, { cause: error });
}

/** `: <message>` of a Kubernetes `Status` body (the body may be parsed JSON or raw text). */
function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() === '' ? '' : `: ${body.trim().slice(0, 500)}`;
    }
  }
  if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
    const { message } = parsed;
    if (typeof message === 'string' && message !== '') return `: ${message}`;
  }
  return '';
}
