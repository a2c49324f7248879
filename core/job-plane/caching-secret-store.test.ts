import { describe, expect, it, vi } from 'vitest';
import type { SecretStore } from '../ports/secret-store.js';
import { CachingSecretStore, DEFAULT_SECRET_TTL_MS } from './caching-secret-store.js';
import { JobPlaneOperationError, SecretNotFoundError } from './job-plane-errors.js';
import { JobPlaneOptionsError } from './job-plane-options.js';

/** A backend answering `value-<n>` for the n-th call of a path, or what `answer` says. */
function backend(answer?: (path: string) => Promise<string>) {
  let calls = 0;
  return {
    get: vi.fn<SecretStore['get']>((path) => answer?.(path) ?? Promise.resolve(`value-${++calls}`)),
  };
}

describe('CachingSecretStore', () => {
  it('keeps a value for five minutes by default', async () => {
    // Arrange
    let now = 0;
    const store = backend();
    const cached = new CachingSecretStore({ store, now: () => now });

    // Act
    const first = await cached.get('a');
    now = DEFAULT_SECRET_TTL_MS - 1;
    const withinTtl = await cached.get('a');
    now = DEFAULT_SECRET_TTL_MS;
    const afterTtl = await cached.get('a');

    // Assert
    expect([first, withinTtl, afterTtl]).toEqual(['value-1', 'value-1', 'value-2']);
    expect(store.get).toHaveBeenCalledTimes(2);
  });

  it('shares one failing call among concurrent readers and does not cache the failure', async () => {
    // Arrange
    let fail = true;
    const store = backend((path) =>
      fail ? Promise.reject(new SecretNotFoundError(path)) : Promise.resolve('created'),
    );
    const cached = new CachingSecretStore({ store });

    // Act
    const results = await Promise.allSettled([cached.get('a'), cached.get('a')]);
    fail = false;
    const later = await cached.get('a');

    // Assert
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(later).toBe('created');
    expect(store.get).toHaveBeenCalledTimes(2);
  });

  it('drops the least recently read path beyond maxEntries', async () => {
    // Arrange
    const store = backend((path) => Promise.resolve(`${path}-value`));
    const cached = new CachingSecretStore({ store, maxEntries: 2 });
    await cached.get('a');
    await cached.get('b');
    await cached.get('a');

    // Act
    await cached.get('c');
    await cached.get('a');
    await cached.get('b');

    // Assert: b was dropped for c, and a stayed
    expect(store.get.mock.calls.map(([path]) => path)).toEqual(['a', 'b', 'c', 'b']);
  });

  it('caches nothing with a TTL of 0', async () => {
    // Arrange
    const store = backend();
    const cached = new CachingSecretStore({ store, ttlMs: 0 });

    // Act
    await cached.get('a');
    await cached.get('a');

    // Assert
    expect(store.get).toHaveBeenCalledTimes(2);
  });

  it('passes backend failures through unchanged', async () => {
    // Arrange
    const failure = new JobPlaneOperationError('secretsmanager:GetSecretValue', 'a', 'denied');
    const cached = new CachingSecretStore({ store: backend(() => Promise.reject(failure)) });

    // Act / Assert
    await expect(cached.get('a')).rejects.toBe(failure);
  });

  it('refuses a negative TTL, naming the option', () => {
    // Act / Assert
    expect(() => new CachingSecretStore({ store: backend(), ttlMs: -1 })).toThrow(
      JobPlaneOptionsError,
    );
    expect(() => new CachingSecretStore({ store: backend(), ttlMs: -1 })).toThrow(/option ttlMs/);
  });
});
