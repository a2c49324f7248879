import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CachingSecretStore } from '../../core/job-plane/caching-secret-store.js';
import { SecretNotFoundError } from '../../core/job-plane/job-plane-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';

/** A secret store under test, and a way to change its backend behind its back. */
export interface SecretStoreFixture {
  readonly store: SecretStore;
  /** Creates or replaces the secret at `path` in the backend. */
  putSecret(path: string, value: string): Promise<void>;
}

/**
 * The behaviour every `SecretStore` adapter shares, run unchanged against each, on its own and
 * behind `CachingSecretStore` (which must work over every backend). `makeFixture` is called
 * once per suite.
 */
export function describeSecretStoreContract(
  name: string,
  makeFixture: () => Promise<SecretStoreFixture>,
): void {
  describe(`SecretStore contract: ${name}`, () => {
    let fixture: SecretStoreFixture;
    const freshPath = () => `forge/contract/${randomUUID()}`;

    beforeAll(async () => {
      fixture = await makeFixture();
    });

    it('answers the text of a secret', async () => {
      // Arrange
      const path = freshPath();
      const value = '{"user":"ci","password":"p@ss wört\\n"}\nsecond line';
      await fixture.putSecret(path, value);

      // Act / Assert
      expect(await fixture.store.get(path)).toBe(value);
    });

    it('throws SecretNotFoundError naming the path of a missing secret', async () => {
      // Arrange
      const path = freshPath();

      // Act / Assert
      await expect(fixture.store.get(path)).rejects.toSatisfy(
        (error) => error instanceof SecretNotFoundError && error.path === path,
      );
    });

    it('answers the current value after the secret changes', async () => {
      // Arrange
      const path = freshPath();
      await fixture.putSecret(path, 'old');
      await fixture.store.get(path);

      // Act
      await fixture.putSecret(path, 'rotated');

      // Assert
      expect(await fixture.store.get(path)).toBe('rotated');
    });

    describe('behind CachingSecretStore', () => {
      const ttlMs = 60_000;
      let now = 0;
      const cachingOver = (store: SecretStore) =>
        new CachingSecretStore({ store, ttlMs, now: () => now });

      it('serves a value from the cache within the TTL and reads it again after', async () => {
        // Arrange
        const path = freshPath();
        await fixture.putSecret(path, 'v1');
        const cached = cachingOver(fixture.store);
        now = 1_000_000;
        expect(await cached.get(path)).toBe('v1');
        await fixture.putSecret(path, 'v2');

        // Act
        now += ttlMs - 1;
        const withinTtl = await cached.get(path);
        now += 1;
        const afterTtl = await cached.get(path);

        // Assert
        expect(withinTtl).toBe('v1');
        expect(afterTtl).toBe('v2');
      });

      it('does not remember that a secret was missing', async () => {
        // Arrange
        const path = freshPath();
        const cached = cachingOver(fixture.store);
        await expect(cached.get(path)).rejects.toBeInstanceOf(SecretNotFoundError);

        // Act
        await fixture.putSecret(path, 'created since');

        // Assert
        expect(await cached.get(path)).toBe('created since');
      });

      it('makes one backend call for concurrent reads of one path', async () => {
        // Arrange
        const path = freshPath();
        await fixture.putSecret(path, 'shared');
        const backend = { get: vi.fn((secretPath: string) => fixture.store.get(secretPath)) };
        const cached = cachingOver(backend);

        // Act
        const values = await Promise.all(Array.from({ length: 5 }, () => cached.get(path)));

        // Assert
        expect(values).toEqual(Array(5).fill('shared'));
        expect(backend.get).toHaveBeenCalledTimes(1);
      });
    });
  });
}
