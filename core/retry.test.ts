import { describe, expect, it, vi } from 'vitest';
import { ForgeError } from './errors.js';
import { RetryOptionsError, backoffDelay, isTransientError, retry } from './retry.js';

/** An error shaped like the ones SDKs and Node throw, without importing any of them. */
function errorWith(fields: Record<string, unknown>, message = 'failure'): Error {
  return Object.assign(new Error(message), fields);
}

/** An operation that fails with `errors` in turn, then resolves 'done'. */
function failingWith(...errors: Error[]) {
  let calls = 0;
  return vi.fn((_attempt: number) => {
    const error = errors[calls];
    calls += 1;
    return error === undefined ? Promise.resolve('done') : Promise.reject(error);
  });
}

const jitter = 0.25;
const noWait = { sleep: () => Promise.resolve(), random: () => jitter };

describe('isTransientError', () => {
  it.each([
    ['HTTP 500 via status', errorWith({ status: 500 })],
    ['HTTP 503 via statusCode', errorWith({ statusCode: 503 })],
    ['HTTP 429 via status', errorWith({ status: 429 })],
    ['AWS SDK 5xx', errorWith({ name: 'InternalServerError', $metadata: { httpStatusCode: 502 } })],
    [
      'AWS SDK throttling marker',
      errorWith({ $retryable: { throttling: true }, $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'ThrottlingException sent as 400',
      errorWith({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
    ],
    ['TooManyRequestsException', errorWith({ name: 'TooManyRequestsException' })],
    ['TimeoutError', errorWith({ name: 'TimeoutError' })],
    ['AbortSignal.timeout reason', new DOMException('timed out', 'TimeoutError')],
    ['ETIMEDOUT', errorWith({ code: 'ETIMEDOUT' })],
    ['ECONNRESET', errorWith({ code: 'ECONNRESET' })],
    ['ECONNREFUSED', errorWith({ code: 'ECONNREFUSED' })],
    ['EPIPE', errorWith({ code: 'EPIPE' })],
    ['EAI_AGAIN', errorWith({ code: 'EAI_AGAIN' })],
    [
      'fetch failed with a socket cause',
      new TypeError('fetch failed', { cause: errorWith({ code: 'ECONNRESET' }) }),
    ],
    ['retryable ForgeError', new ForgeError('queue unavailable', { retryable: true })],
  ])('retries %s', (_label, error) => {
    // Act / Assert
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['HTTP 400', errorWith({ status: 400 })],
    ['HTTP 401', errorWith({ statusCode: 401 })],
    ['HTTP 403', errorWith({ $metadata: { httpStatusCode: 403 } })],
    ['HTTP 404', errorWith({ status: 404 })],
    ['HTTP 409', errorWith({ status: 409 })],
    ['HTTP 422', errorWith({ status: 422 })],
    [
      'AWS validation error',
      errorWith({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
    ],
    ['non-retryable ForgeError', new ForgeError('bad config')],
    [
      'ForgeError wrapping a timeout',
      new ForgeError('gave up', { cause: errorWith({ code: 'ETIMEDOUT' }) }),
    ],
    ['an explicit cancellation', new DOMException('stopped', 'AbortError')],
    ['an unknown error', new Error('something odd')],
    ['an unknown code', errorWith({ code: 'ENOENT' })],
    ['a process exit status', errorWith({ status: 1 })],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
  ])('does not retry %s', (_label, error) => {
    // Act / Assert
    expect(isTransientError(error)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles from one second and adds the jitter', () => {
    // Arrange
    const options = { random: () => 0.5 };

    // Act
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options));

    // Assert
    expect(delays).toEqual([1500, 2500, 4500, 8500, 16_500, 32_500]);
  });

  it('caps the exponential part at sixty seconds before adding jitter', () => {
    // Act
    const delays = [7, 20, 2000].map((attempt) => backoffDelay(attempt, { random: () => 0.999 }));

    // Assert
    expect(delays).toEqual([60_999, 60_999, 60_999]);
  });

  it('honours custom base, cap and jitter', () => {
    // Act
    const delay = backoffDelay(3, {
      baseDelayMs: 100,
      maxDelayMs: 300,
      jitterMs: 10,
      random: () => 0.5,
    });

    // Assert
    expect(delay).toBe(305);
  });

  it('rejects a nonsensical attempt or option', () => {
    // Act / Assert
    expect(() => backoffDelay(0)).toThrow(RetryOptionsError);
    expect(() => backoffDelay(1, { jitterMs: -1 })).toThrow('jitterMs must be');
  });
});

describe('retry', () => {
  it('retries transient failures with growing delays and returns the result', async () => {
    // Arrange
    const operation = failingWith(
      errorWith({ status: 503 }),
      errorWith({ status: 429 }),
      errorWith({ code: 'ETIMEDOUT' }),
      errorWith({ name: 'TimeoutError' }),
    );
    const sleep = vi.fn((_ms: number) => Promise.resolve());
    const onRetry = vi.fn<(error: unknown, attempt: number, delayMs: number) => void>();

    // Act
    const result = await retry(operation, { sleep, random: () => jitter, onRetry });

    // Assert
    expect(result).toBe('done');
    expect(operation.mock.calls.map(([attempt]) => attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([1250, 2250, 4250, 8250]);
    expect(onRetry.mock.calls.map(([, attempt, delayMs]) => [attempt, delayMs])).toEqual([
      [1, 1250],
      [2, 2250],
      [3, 4250],
      [4, 8250],
    ]);
  });

  it('caps long waits at sixty seconds plus jitter', async () => {
    // Arrange
    const transient = errorWith({ status: 500 });
    const operation = failingWith(...Array.from({ length: 8 }, () => transient));
    const sleep = vi.fn((_ms: number) => Promise.resolve());

    // Act
    await retry(operation, { maxAttempts: 9, sleep, random: () => jitter });

    // Assert
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([
      1250, 2250, 4250, 8250, 16_250, 32_250, 60_250, 60_250,
    ]);
  });

  it('gives up after five attempts and throws the last failure unchanged', async () => {
    // Arrange
    const failures = [1, 2, 3, 4, 5, 6].map((n) => errorWith({ status: 500 }, `failure ${n}`));
    const operation = failingWith(...failures);

    // Act
    const outcome = retry(operation, noWait);

    // Assert
    await expect(outcome).rejects.toBe(failures[4]);
    expect(operation).toHaveBeenCalledTimes(5);
  });

  it.each([400, 401, 403, 404])('does not retry HTTP %i', async (status) => {
    // Arrange
    const persistent = errorWith({ status });
    const operation = failingWith(persistent);
    const sleep = vi.fn(() => Promise.resolve());

    // Act
    const outcome = retry(operation, { ...noWait, sleep });

    // Assert
    await expect(outcome).rejects.toBe(persistent);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('stops retrying at the first persistent failure', async () => {
    // Arrange
    const persistent = new ForgeError('not allowed');
    const operation = failingWith(errorWith({ code: 'ECONNRESET' }), persistent);

    // Act
    const outcome = retry(operation, noWait);

    // Assert
    await expect(outcome).rejects.toBe(persistent);
    expect(operation).toHaveBeenCalledTimes(2);
  });

  it('uses a custom classifier when given one', async () => {
    // Arrange
    const operation = failingWith(new Error('flaky'));

    // Act
    const result = await retry(operation, { ...noWait, isRetryable: () => true });

    // Assert
    expect(result).toBe('done');
  });

  it('stops waiting when the signal aborts and throws its reason', async () => {
    // Arrange
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const operation = failingWith(errorWith({ status: 503 }), errorWith({ status: 503 }));
    const started = Date.now();

    // Act
    const outcome = retry(operation, {
      signal: controller.signal,
      random: () => 0,
      onRetry: () => setTimeout(() => controller.abort(reason), 20),
    });

    // Assert
    await expect(outcome).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(900);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('makes no attempt once the signal has aborted, even if the injected sleep ignores it', async () => {
    // Arrange
    const controller = new AbortController();
    const operation = failingWith(errorWith({ status: 503 }));
    const sleep = () => {
      controller.abort(new Error('cancelled'));
      return Promise.resolve();
    };

    // Act
    const outcome = retry(operation, { signal: controller.signal, sleep });

    // Assert
    await expect(outcome).rejects.toThrow('cancelled');
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('rejects nonsensical options before running anything', async () => {
    // Arrange
    const operation = failingWith();

    // Act
    const outcomes = [
      retry(operation, { maxAttempts: 0 }),
      retry(operation, { baseDelayMs: Number.NaN }),
    ];

    // Assert
    await expect(outcomes[0]).rejects.toBeInstanceOf(RetryOptionsError);
    await expect(outcomes[1]).rejects.toThrow('baseDelayMs must be');
    expect(operation).not.toHaveBeenCalled();
  });
});
