import { describe, expect, it } from 'vitest';
import { SECONDARY_RATE_LIMIT_WAIT_MS, rateLimitDelayMs } from './rate-limit.js';

const now = Date.parse('2025-03-01T10:00:00.000Z');

describe('rateLimitDelayMs', () => {
  it('waits the seconds of retry-after', () => {
    expect(rateLimitDelayMs({ status: 429, headers: { 'retry-after': '7' } }, now)).toBe(7000);
    expect(rateLimitDelayMs({ status: 403, headers: { 'retry-after': 2 } }, now)).toBe(2000);
  });

  it('waits until x-ratelimit-reset when no requests remain', () => {
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 90) };

    expect(rateLimitDelayMs({ status: 403, headers }, now)).toBe(90_500);
  });

  it('waits a minute for a secondary rate limit that names no time', () => {
    const response = {
      status: 403,
      headers: {},
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes.',
    };

    expect(rateLimitDelayMs(response, now)).toBe(SECONDARY_RATE_LIMIT_WAIT_MS);
    expect(rateLimitDelayMs({ status: 429, headers: {} }, now)).toBe(SECONDARY_RATE_LIMIT_WAIT_MS);
  });

  it('is no rate limit for a plain 403, a 404 or a 500', () => {
    const remaining = { 'x-ratelimit-remaining': '4000', 'x-ratelimit-reset': '1' };

    expect(
      rateLimitDelayMs(
        { status: 403, headers: remaining, message: 'Resource not accessible' },
        now,
      ),
    ).toBeUndefined();
    expect(rateLimitDelayMs({ status: 404, headers: { 'retry-after': '1' } }, now)).toBeUndefined();
    expect(rateLimitDelayMs({ status: 500, headers: {} }, now)).toBeUndefined();
  });
});
