/** Options of {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Longest time a verified token is answered from memory; 0 turns the cache off. */
  readonly maxAgeMs: number;
  /** Most tokens kept; the oldest entry makes room for a new one. */
  readonly maxEntries: number;
}

interface Entry<T> {
  readonly value: T;
  /** Epoch milliseconds after which the entry is no longer answered. */
  readonly until: number;
}

/**
 * What was learnt from tokens that passed verification, by the exact token text, so that a
 * caller presenting the same token again (a worker's status updates, a client polling a run)
 * is not verified again: a signature check costs far more than the rest of a request. An entry
 * is answered until the token's `exp` (never past it) and at most `maxAgeMs` after it was
 * verified, which stays well inside the time a key set is cached anyway, so a key withdrawn
 * by its issuer is not trusted longer than it already would be. Only successes are kept.
 */
export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #options: VerifiedTokenCacheOptions;

  constructor(options: VerifiedTokenCacheOptions) {
    this.#options = options;
  }

  /** What `token` gave when it was verified, while that still holds at `now` (epoch ms). */
  get(token: string, now: number): T | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (now < entry.until) return entry.value;
    this.#entries.delete(token);
    return undefined;
  }

  /** Keeps `value` for `token`, verified at `now`, until `expiresAt` (epoch ms) at the latest. */
  remember(token: string, value: T, now: number, expiresAt: number): void {
    const until = Math.min(expiresAt, now + this.#options.maxAgeMs);
    if (until <= now || this.#options.maxEntries < 1) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.#options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, until });
  }
}
