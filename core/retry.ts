import { ForgeError } from './errors.js';

/** Node system error codes of network failures that usually clear up on their own. */
const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
]);

/** Error names that AWS services and SDKs use for throttling, and for timeouts. */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TimeoutError',
]);

/** Error names that mean someone asked to stop: never retried. */
const CANCELLATION_ERROR_NAMES: ReadonlySet<string> = new Set(['AbortError']);

/** How deep {@link isTransientError} follows `cause` when an error says nothing itself. */
const MAX_CAUSE_DEPTH = 5;

type Verdict = 'transient' | 'persistent' | 'unknown';

/**
 * Whether an error is worth retrying, judged structurally so core needs no SDK types:
 * - a {@link ForgeError} says so itself (`retryable`); adapters that know better map to one;
 * - throttling is transient: AWS SDK v3 `$retryable` (any, including `{ throttling: true }`)
 *   and throttling error names, checked first because AWS sends some of them with HTTP 400;
 * - an HTTP status from `status`, `statusCode` or `$metadata.httpStatusCode` decides next:
 *   429 and 5xx are transient, every other status (400, 401, 403, 404, ...) is persistent;
 * - network codes ETIMEDOUT, ECONNRESET, ECONNREFUSED, EPIPE, EAI_AGAIN and the name
 *   `TimeoutError` (what `AbortSignal.timeout()` rejects with) are transient; `AbortError`
 *   (an explicit cancellation) is persistent;
 * - otherwise the error's `cause` chain is consulted (`fetch failed` hides its socket error
 *   there), and anything still unknown is NOT retried: repeating an operation whose failure
 *   nobody understands may repeat a side effect.
 */
export function isTransientError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && isObject(current); depth++) {
    const verdict = classify(current);
    if (verdict !== 'unknown') return verdict === 'transient';
    current = current['cause'];
  }
  return false;
}

function classify(error: Record<string, unknown>): Verdict {
  if (error instanceof ForgeError) return error.retryable ? 'transient' : 'persistent';
  const name = typeof error['name'] === 'string' ? error['name'] : undefined;
  if (isObject(error['$retryable'])) return 'transient';
  if (name !== undefined && CANCELLATION_ERROR_NAMES.has(name)) return 'persistent';
  if (name !== undefined && TRANSIENT_ERROR_NAMES.has(name)) return 'transient';
  const status = httpStatus(error);
  if (status !== undefined) return status === 429 || status >= 500 ? 'transient' : 'persistent';
  const code = error['code'];
  if (typeof code === 'string' && TRANSIENT_ERROR_CODES.has(code)) return 'transient';
  return 'unknown';
}

function httpStatus(error: Record<string, unknown>): number | undefined {
  const metadata = error['$metadata'];
  const candidates = [
    error['status'],
    error['statusCode'],
    isObject(metadata) ? metadata['httpStatusCode'] : undefined,
  ];
  return candidates.find(
    (value): value is number =>
      Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The shape of the backoff: `min(maxDelayMs, baseDelayMs * 2^(n-1)) + random() * jitterMs`. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound of the exponential part. Default 60000 ms. */
  readonly maxDelayMs?: number;
  /** Up to this much is added at random, so that many callers do not retry in step. Default 1000 ms. */
  readonly jitterMs?: number;
  /** A number in [0, 1); injectable for tests. Default `Math.random`. */
  readonly random?: () => number;
}

/** Options of {@link retry}; every field has a default. */
export interface RetryOptions extends BackoffOptions {
  /** Attempts in total, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Decides which failures are retried. Default {@link isTransientError}. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Stops the waiting between attempts and prevents new ones; the signal's reason is thrown. */
  readonly signal?: AbortSignal;
  /** Called before each wait with the failure, the 1-based attempt that failed, and the wait. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits `ms`, rejecting early if `signal` aborts; injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The defaults of {@link retry}: 5 attempts, 1 s doubling to at most 60 s, plus up to 1 s. */
export const DEFAULT_RETRY_OPTIONS = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  jitterMs: 1000,
} as const;

/** Raised when {@link retry} or {@link backoffDelay} is given options that make no sense. */
export class RetryOptionsError extends ForgeError {}

/**
 * The wait before retry number `attempt` (1-based: 1 is the wait after the first failure):
 * `min(maxDelayMs, baseDelayMs * 2^(attempt-1)) + random() * jitterMs`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RetryOptionsError(`retry attempt must be a positive integer, got ${attempt}`);
  }
  const { baseDelayMs, maxDelayMs, jitterMs, random } = compileBackoff(options);
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)) + random() * jitterMs;
}

/**
 * Runs `operation` until it succeeds, retrying transient failures with exponential backoff and
 * jitter (see {@link RetryOptions} and {@link DEFAULT_RETRY_OPTIONS}). `operation` receives the
 * 1-based attempt number.
 *
 * Errors pass through unchanged: a failure that is not retryable is thrown at once, and when the
 * attempts run out the last failure is thrown as it was (not wrapped), so callers keep
 * branching on the types their adapters map to; `onRetry` sees every retried failure. When
 * `signal` aborts, the wait stops and the signal's `reason` is thrown.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY_OPTIONS.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RetryOptionsError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  const backoff = compileBackoff(options);
  const isRetryable = options.isRetryable ?? isTransientError;
  const sleep = options.sleep ?? abortableSleep;
  const { signal } = options;

  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, backoff);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}

/** Applies the defaults and checks the values once, so a bad option fails before any attempt. */
function compileBackoff(options: BackoffOptions): Required<BackoffOptions> {
  return {
    baseDelayMs: nonNegative('baseDelayMs', options.baseDelayMs, DEFAULT_RETRY_OPTIONS.baseDelayMs),
    maxDelayMs: nonNegative('maxDelayMs', options.maxDelayMs, DEFAULT_RETRY_OPTIONS.maxDelayMs),
    jitterMs: nonNegative('jitterMs', options.jitterMs, DEFAULT_RETRY_OPTIONS.jitterMs),
    random: options.random ?? Math.random,
  };
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RetryOptionsError(
      `${name} must be a finite number of milliseconds >= 0, got ${value}`,
    );
  }
  return value;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
