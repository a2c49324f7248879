import { setTimeout as sleep } from 'node:timers/promises';
import { Mutex } from 'async-mutex';
import { lock } from 'proper-lockfile';
import { errorMessage } from '../../core/errors.js';
import { CheckoutAbortedError, RepositoryLockError } from './repository-cache-errors.js';
import type { RepositoryCacheLogger } from './repository-cache-events.js';

/** Settings of {@link RepositoryLocks}. */
export interface RepositoryLocksOptions {
  /** The lock folder of a repository key. */
  readonly lockPath: (key: string) => string;
  /** A lock whose holder has not refreshed it for this long is considered abandoned. */
  readonly staleMs: number;
  /** Longest wait for a lock another process holds before giving up (retryable error). */
  readonly timeoutMs: number;
  readonly logger: RepositoryCacheLogger;
}

/** The outcome of {@link RepositoryLocks.tryWithLock}. */
export type TryLockOutcome<T> =
  { readonly acquired: true; readonly value: T } | { readonly acquired: false };

const FIRST_RETRY_MS = 5;
const LONGEST_RETRY_MS = 200;

/**
 * Serialises everything that mutates one bare repository (clone, fetch, worktree add and
 * remove, prune, eviction), in two layers:
 *
 * - within the process, an `async-mutex` `Mutex` per repository key: waiters queue without
 *   polling and in order;
 * - across processes sharing the cache folder, a `proper-lockfile` lock folder per key. It is
 *   made with `mkdir` (atomic on local and network file systems) and kept fresh by the
 *   library, which rewrites its mtime every `staleMs / 2`; a lock left by a process that died
 *   without running its exit hook goes stale after `staleMs` and is taken over. That is the
 *   stale detection an `O_EXCL` file would need us to hand-write, from a package with tens of
 *   millions of weekly downloads. The one gap it shares with every mtime scheme: a holder
 *   frozen longer than `staleMs` loses its lock; the library then reports it compromised and
 *   we log an error.
 *
 * Waiting for another process's lock polls with capped exponential back-off (5 ms to 200 ms).
 */
export class RepositoryLocks {
  readonly #mutexes = new Map<string, Mutex>();

  constructor(private readonly options: RepositoryLocksOptions) {}

  /** Runs `operation` holding the repository's lock, waiting for it as long as allowed. */
  async withLock<T>(key: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#mutex(key).runExclusive(async () => {
      const release = await this.#acquireFile(key, signal);
      try {
        return await operation();
      } finally {
        await this.#releaseFile(key, release);
      }
    });
  }

  /**
   * Runs `operation` only if the repository's lock is free right now, in this process and in
   * others; a busy lock means the repository is in use, which eviction and start-up clean-up
   * take as "leave it alone".
   */
  async tryWithLock<T>(key: string, operation: () => Promise<T>): Promise<TryLockOutcome<T>> {
    const mutex = this.#mutex(key);
    if (mutex.isLocked()) return { acquired: false };
    return mutex.runExclusive(async (): Promise<TryLockOutcome<T>> => {
      const release = await this.#tryAcquireFile(key);
      if (release === undefined) return { acquired: false };
      try {
        return { acquired: true, value: await operation() };
      } finally {
        await this.#releaseFile(key, release);
      }
    });
  }

  #mutex(key: string): Mutex {
    let mutex = this.#mutexes.get(key);
    if (mutex === undefined) {
      mutex = new Mutex();
      this.#mutexes.set(key, mutex);
    }
    return mutex;
  }

  async #acquireFile(key: string, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
    const deadline = Date.now() + this.options.timeoutMs;
    let delay = FIRST_RETRY_MS;
    for (;;) {
      if (signal?.aborted) throw new CheckoutAbortedError(signal.reason);
      const release = await this.#tryAcquireFile(key);
      if (release !== undefined) return release;
      if (Date.now() + delay > deadline) {
        throw new RepositoryLockError(
          key,
          `still held by another process after ${this.options.timeoutMs} ms`,
        );
      }
      await sleep(delay + Math.random() * delay, undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, LONGEST_RETRY_MS);
    }
  }

  async #tryAcquireFile(key: string): Promise<(() => Promise<void>) | undefined> {
    const lockPath = this.options.lockPath(key);
    try {
      return await lock(lockPath, {
        realpath: false,
        lockfilePath: lockPath,
        stale: this.options.staleMs,
        onCompromised: (error) => {
          this.options.logger.error('repository lock compromised', { key, error: error.message });
        },
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ELOCKED') return undefined;
      throw new RepositoryLockError(key, `cannot create ${lockPath}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  async #releaseFile(key: string, release: () => Promise<void>): Promise<void> {
    try {
      await release();
    } catch (error) {
      this.options.logger.warn('releasing repository lock failed', {
        key,
        error: errorMessage(error),
      });
    }
  }
}
