import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-token-cache.js';

describe('VerifiedTokenCache', () => {
  it('answers an entry until the earlier of its expiry and its max age, then forgets it', () => {
    // Arrange
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 1000, maxEntries: 10 });

    // Act
    cache.remember('long-lived', 'a', 0, 60_000);
    cache.remember('short-lived', 'b', 0, 500);

    // Assert
    expect(cache.get('long-lived', 999)).toBe('a');
    expect(cache.get('long-lived', 1000)).toBeUndefined();
    expect(cache.get('short-lived', 499)).toBe('b');
    expect(cache.get('short-lived', 500)).toBeUndefined();
    expect(cache.get('unknown', 0)).toBeUndefined();
  });

  it('keeps nothing that has expired already, or when its max age is 0', () => {
    // Arrange
    const cache = new VerifiedTokenCache<string>({ maxAgeMs: 1000, maxEntries: 10 });
    const disabled = new VerifiedTokenCache<string>({ maxAgeMs: 0, maxEntries: 10 });

    // Act
    cache.remember('expired', 'a', 5000, 4000);
    disabled.remember('token', 'b', 0, 60_000);

    // Assert
    expect(cache.get('expired', 5000)).toBeUndefined();
    expect(disabled.get('token', 0)).toBeUndefined();
  });

  it('makes room by forgetting the oldest entry once full', () => {
    // Arrange
    const cache = new VerifiedTokenCache<number>({ maxAgeMs: 1000, maxEntries: 2 });

    // Act
    cache.remember('first', 1, 0, 60_000);
    cache.remember('second', 2, 0, 60_000);
    cache.remember('third', 3, 0, 60_000);

    // Assert
    expect(cache.get('first', 1)).toBeUndefined();
    expect(cache.get('second', 1)).toBe(2);
    expect(cache.get('third', 1)).toBe(3);
  });
});
