/** GitHub's advice when a secondary rate limit names no time: wait at least a minute. */
export const SECONDARY_RATE_LIMIT_WAIT_MS = 60_000;
/** Added to `x-ratelimit-reset` (whole seconds), so a retry lands after the window opens. */
const RESET_MARGIN_MS = 500;

/** The parts of a failed GitHub response that say whether and how long to wait. */
export interface RateLimitedResponse {
  readonly status: number;
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | number | undefined>>;
  /** The `message` of GitHub's error body, if any. */
  readonly message?: string;
}

/**
 * How long GitHub asks a client to wait before repeating a refused request, or `undefined` when
 * the response is not a rate limit (a 403 for a missing permission is not). Following GitHub's
 * documentation: a 403 or 429 with `retry-after` (seconds) waits that long; one with
 * `x-ratelimit-remaining: 0` waits until `x-ratelimit-reset` (epoch seconds); a secondary rate
 * limit or a 429 that names no time waits a minute.
 */
export function rateLimitDelayMs(response: RateLimitedResponse, nowMs: number): number | undefined {
  if (response.status !== 403 && response.status !== 429) return undefined;
  const retryAfter = numberHeader(response.headers['retry-after']);
  if (retryAfter !== undefined) return Math.max(0, retryAfter * 1000);
  const remaining = numberHeader(response.headers['x-ratelimit-remaining']);
  const reset = numberHeader(response.headers['x-ratelimit-reset']);
  if (remaining === 0 && reset !== undefined) {
    return Math.max(0, reset * 1000 - nowMs) + RESET_MARGIN_MS;
  }
  if (response.status === 429 || /secondary rate limit/i.test(response.message ?? '')) {
    return SECONDARY_RATE_LIMIT_WAIT_MS;
  }
  return undefined;
}

function numberHeader(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}
