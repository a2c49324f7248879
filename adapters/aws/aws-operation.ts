import { errorMessage } from '../../core/errors.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { isTransientError, retry, type RetryOptions } from '../../core/retry.js';

/**
 * Translates an AWS SDK failure into a {@link JobPlaneOperationError} naming the operation
 * (`s3:PutObject`) and the resource (`s3://bucket/key`), with the SDK's error name and HTTP
 * status in the message and the SDK error as `cause`. `retryable` follows core's
 * `isTransientError`: throttling (`SlowDown`, `ThrottlingException`), 5xx and network failures
 * are; 4xx such as `AccessDenied`, `NoSuchBucket` and `ExpiredToken` are not.
 */
export function awsOperationError(
  operation: string,
  resource: string,
  error: unknown,
): JobPlaneOperationError {
  if (error instanceof JobPlaneOperationError) return error;
  const details = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof details.name === 'string' ? details.name : 'Error';
  const status = details.$metadata?.httpStatusCode;
  const reason = `${name}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${errorMessage(error)}`;
  return new JobPlaneOperationError(operation, resource, reason, {
    cause: error,
    retryable: isTransientError(error),
  });
}

/**
 * Runs one AWS call under `retryOptions` (core `retry`), mapping every failure with
 * {@link awsOperationError} first, so transient ones are retried and the rest surface at once.
 * SDK clients are built with `maxAttempts: 1` (`sdkClientConfig`), so this is the only retry.
 */
export function callAws<T>(
  operation: string,
  resource: string,
  call: () => Promise<T>,
  retryOptions?: RetryOptions,
): Promise<T> {
  return retry(async () => {
    try {
      return await call();
    } catch (error) {
      throw awsOperationError(operation, resource, error);
    }
  }, retryOptions);
}

/** Whether an SDK error has this name (`NoSuchKey`, `ResourceNotFoundException`). */
export function hasErrorName(error: unknown, ...names: readonly string[]): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && names.includes(name);
}
