import { z } from 'zod';
import type { SecretStore } from '../ports/secret-store.js';
import { parseJobPlaneOptions } from './job-plane-options.js';

/** Five minutes: how long a secret is reused before it is read again. */
export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;

/** Options of {@link CachingSecretStore}. Only `store` is required. */
export interface CachingSecretStoreOptions {
  /** The store that holds the secrets (Secrets Manager, embedded). */
  readonly store: SecretStore;
  /** How long a value is served from memory; default 5 minutes. A rotation shows after this. */
  readonly ttlMs?: number;
  /** Most paths kept; the least recently read is dropped beyond it. Default 1000. */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

const optionsSchema = z.object({
  ttlMs: z.number().int().min(0).default(DEFAULT_SECRET_TTL_MS),
  maxEntries: z.number().int().positive().default(1000),
});

interface CachedSecret {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * A {@link SecretStore} that remembers values for a while, so a worker running many steps that
 * name the same secret calls the backend once per TTL instead of once per step (Secrets
 * Manager charges per call and throttles). Concurrent reads of one path share one backend call.
 *
 * Only values are cached. Failures, `SecretNotFoundError` included, are not: a secret that an
 * operator creates after a step failed for its absence is found by the very next step, and a
 * throttled call is not replayed to every later caller.
 */
export class CachingSecretStore implements SecretStore {
  readonly #store: SecretStore;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Values by path, least recently read first (a `Map` keeps insertion order). */
  readonly #values = new Map<string, CachedSecret>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(options: CachingSecretStoreOptions) {
    const { ttlMs, maxEntries } = parseJobPlaneOptions('CachingSecretStore', optionsSchema, {
      ttlMs: options.ttlMs,
      maxEntries: options.maxEntries,
    });
    this.#store = options.store;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The cached value while it is fresh, else the backend's (shared with concurrent callers). */
  get(path: string): Promise<string> {
    const cached = this.#values.get(path);
    if (cached !== undefined) {
      this.#values.delete(path);
      if (this.#now() < cached.expiresAt) {
        this.#values.set(path, cached);
        return Promise.resolve(cached.value);
      }
    }
    const pending = this.#inFlight.get(path);
    if (pending !== undefined) return pending;
    const loading = this.#load(path);
    this.#inFlight.set(path, loading);
    return loading;
  }

  async #load(path: string): Promise<string> {
    try {
      const value = await this.#store.get(path);
      this.#remember(path, value);
      return value;
    } finally {
      this.#inFlight.delete(path);
    }
  }

  #remember(path: string, value: string): void {
    this.#values.delete(path);
    this.#values.set(path, { value, expiresAt: this.#now() + this.#ttlMs });
    for (const oldest of this.#values.keys()) {
      if (this.#values.size <= this.#maxEntries) break;
      this.#values.delete(oldest);
    }
  }
}
