import { z } from 'zod';
import {
  ERROR_HTTP_STATUS,
  ErrorCode,
  errorBody,
  validationErrorBody,
  type ErrorBody,
} from '../../core/contracts/api.js';
import { ForgeError } from '../../core/errors.js';
import {
  AuthenticationError,
  AuthorizationError,
  IssuerUnavailableError,
} from '../../core/ports/authenticator.js';
import {
  ExecutionNotFoundError,
  RepositoryNotRegisteredError,
  RunNotFoundError,
} from '../../core/run-progress/run-progress-errors.js';

/** An error the API answers as it is: its code, message and details go to the client. */
export class ApiError extends ForgeError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** What an error becomes on the wire: an HTTP status and the standard error body. */
export interface ErrorResponse {
  readonly statusCode: number;
  readonly body: ErrorBody;
  /** Whether the API itself failed (logged as an error, counted, and hidden from the client). */
  readonly internal: boolean;
}

/**
 * Maps any error to the standard error body (DESIGN.md section 6). What a client can cause
 * has its own status (400 validation, 401 authentication, 403 authorisation or unregistered
 * repository, 404 unknown run, task or step); only the API's own failures are 500s, or 503
 * when a dependency (the database, a token issuer) is unavailable and a retry may help, and
 * their messages never reach the client.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  const clientError = (body: ErrorBody): ErrorResponse => ({
    statusCode: ERROR_HTTP_STATUS[body.error.code],
    body,
    internal: false,
  });
  if (error instanceof ApiError)
    return clientError(errorBody(error.code, error.message, error.details));
  if (error instanceof z.ZodError) return clientError(validationErrorBody(error));
  if (error instanceof AuthenticationError) {
    return clientError(errorBody(ErrorCode.unauthorized, error.message, { reason: error.reason }));
  }
  if (error instanceof AuthorizationError) {
    return clientError(errorBody(ErrorCode.forbidden, error.message, { reason: error.reason }));
  }
  if (error instanceof RepositoryNotRegisteredError) {
    return clientError(
      errorBody(ErrorCode.forbidden, `${error.message}; an operator registers it first`, {
        reason: 'repository_not_registered',
        repository: error.repository,
      }),
    );
  }
  if (error instanceof RunNotFoundError) {
    return clientError(errorBody(ErrorCode.notFound, error.message, { run_id: error.runId }));
  }
  if (error instanceof ExecutionNotFoundError) {
    return clientError(errorBody(ErrorCode.notFound, error.message, { [error.entity]: error.key }));
  }
  const unavailable =
    error instanceof IssuerUnavailableError || (error instanceof ForgeError && error.retryable);
  return {
    statusCode: unavailable ? 503 : 500,
    body: errorBody(
      ErrorCode.internal,
      unavailable
        ? 'a service the API depends on is unavailable; try again shortly'
        : 'the API failed to handle the request',
    ),
    internal: true,
  };
}
