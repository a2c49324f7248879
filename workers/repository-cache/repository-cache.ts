import { statSync } from 'node:fs';
import { errorMessage } from '../../core/errors.js';
import { BareRepository } from './bare-repository.js';
import { CheckoutPreparation } from './checkout-preparation.js';
import {
  CacheEviction,
  type CachedRepositoryUsage,
  type EvictionResult,
} from './cache-eviction.js';
import { CacheLayout, ensureFolder, type RepositoryLocation } from './cache-layout.js';
import { recoverCache } from './cache-recovery.js';
import { CacheSession } from './cache-session.js';
import { GitRunner } from './git-runner.js';
import { validateCheckoutRequest, type CheckoutRequest } from './checkout-request.js';
import { EvictionScheduler } from './eviction-scheduler.js';
import { ActiveCheckouts } from './active-checkouts.js';
import {
  CheckoutAbortedError,
  RepositoryCacheClosedError,
  RepositoryCacheError,
  WorktreeInUseError,
} from './repository-cache-errors.js';
import { RepositoryCacheEventSink, type RepositoryCacheStats } from './repository-cache-events.js';
import {
  compileRepositoryCacheOptions,
  type CompiledRepositoryCacheOptions,
  type RepositoryCacheOptions,
} from './repository-cache-options.js';
import { RepositoryLocks } from './repository-lock.js';
import { WorktreeRegistry } from './worktree-registry.js';
import { WorktreeReturns } from './worktree-returns.js';

/** A job's private worktree, detached at the resolved commit, until {@link RepositoryCheckout.release}. */
export interface RepositoryCheckout {
  /** The worktree folder. */
  readonly path: string;
  /** The full SHA the worktree is at. */
  readonly commit: string;
  readonly jobId: string;
  /**
   * Removes the worktree (or parks it for reuse, see `worktreePoolSize`); either way its path
   * is gone afterwards. Idempotent, and safe to call after the cache closed it.
   */
  release(): Promise<void>;
}

type CacheState = 'open' | 'closing' | 'closed';

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The repository cache of a worker: one bare clone per repository under a cache folder, one
 * detached `git worktree` per job, so a checkout costs a local worktree instead of a clone.
 * Processes on one node may share the folder: every change to a bare clone (clone, fetch,
 * worktree registration) happens under a per-repository lock (in-process mutex plus lock
 * folder). What only reads runs outside it: resolving a commit the clone already has (trusted
 * under the lock only if the clone is still the same one), and populating a worktree's files,
 * the slow part. Least recently used repositories are evicted in the background after a clone
 * or fetch when the cache outgrows its maximum. With `worktreePoolSize` set, released
 * worktrees are restored to their commit, parked and recycled, so a checkout rewrites only the
 * files that differ, and none when the parked worktree is at the commit already.
 *
 * Create with {@link RepositoryCache.open}; finish with {@link RepositoryCache.close}.
 */
export class RepositoryCache {
  readonly #options: CompiledRepositoryCacheOptions;
  readonly #layout: CacheLayout;
  readonly #events: RepositoryCacheEventSink;
  readonly #session: CacheSession;
  readonly #locks: RepositoryLocks;
  readonly #bare: BareRepository;
  readonly #worktrees: WorktreeRegistry;
  readonly #preparation: CheckoutPreparation;
  readonly #eviction: CacheEviction;
  /** Checkouts of this instance by worktree path. */
  readonly #active = new ActiveCheckouts();
  /** How released worktrees come back: kept, parked or removed. */
  readonly #returns: WorktreeReturns;
  #state: CacheState = 'open';
  #closing: Promise<void> | undefined;
  readonly #evictionScheduler: EvictionScheduler;

  private constructor(options: CompiledRepositoryCacheOptions) {
    this.#options = options;
    const { logger } = options;
    this.#layout = new CacheLayout(options.cacheDir, options.worktreesDir);
    this.#events = new RepositoryCacheEventSink(options.onEvent, logger);
    this.#session = new CacheSession(this.#layout.sessionsDir, options.lockStaleMs, logger);
    const git = new GitRunner(options.git);
    this.#locks = new RepositoryLocks({
      lockPath: (key) => this.#layout.lockPath(key),
      staleMs: options.lockStaleMs,
      timeoutMs: options.lockTimeoutMs,
      logger,
    });
    this.#bare = new BareRepository(git, this.#events);
    this.#worktrees = new WorktreeRegistry(git, this.#session, this.#events);
    this.#preparation = new CheckoutPreparation({
      locks: this.#locks,
      bare: this.#bare,
      worktrees: this.#worktrees,
      worktreePoolSize: options.worktreePoolSize,
    });
    this.#eviction = new CacheEviction({
      layout: this.#layout,
      locks: this.#locks,
      worktrees: this.#worktrees,
      events: this.#events,
      logger,
      maxBytes: options.maxSizeBytes,
    });
    this.#returns = new WorktreeReturns({
      locks: this.#locks,
      worktrees: this.#worktrees,
      active: this.#active,
      worktreePoolSize: options.worktreePoolSize,
      keptWorktreeIdleMs: options.keptWorktreeIdleMs,
      logger,
      events: this.#events,
      isOpen: () => this.#state === 'open',
    });
    this.#evictionScheduler = new EvictionScheduler(
      this.#eviction,
      () => this.#active.repositoryKeys(),
      logger,
    );
  }

  /**
   * Opens (creating if needed) the cache folder, takes this instance's session lease, and
   * cleans up after crashed processes: stale worktrees, half-made clones, the trash.
   */
  static async open(options: RepositoryCacheOptions): Promise<RepositoryCache> {
    const compiled = compileRepositoryCacheOptions(options);
    const cacheDir = await ensureFolder(compiled.cacheDir);
    const worktreesDir =
      compiled.worktreesDir === undefined ? undefined : await ensureFolder(compiled.worktreesDir);
    const cache = new RepositoryCache({ ...compiled, cacheDir, worktreesDir });
    try {
      await cache.#layout.create();
      await CacheSession.sweep(cache.#layout.sessionsDir, compiled.lockStaleMs);
      await cache.#session.begin();
      await recoverCache({
        layout: cache.#layout,
        locks: cache.#locks,
        bare: cache.#bare,
        worktrees: cache.#worktrees,
        logger: compiled.logger,
      });
    } catch (error) {
      await cache.#session.end().catch(() => undefined);
      if (error instanceof RepositoryCacheError) throw error;
      throw new RepositoryCacheError(
        `cannot open the repository cache in ${cacheDir}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    compiled.logger.info('repository cache open', { cacheDir, session: cache.#session.id });
    return cache;
  }

  /**
   * Checks `request.commit` of `request.url` out into a new worktree for `request.jobId`,
   * cloning or fetching only when the commit is not cached yet (see `BareRepository.resolve`).
   * Throws `CommitNotFoundError`, `RepositoryCloneError`, `RepositoryFetchError`,
   * `WorktreeInUseError`, `RepositoryLockError` (all `RepositoryCacheError`s).
   */
  async checkout(request: CheckoutRequest): Promise<RepositoryCheckout> {
    if (this.#state !== 'open') throw new RepositoryCacheClosedError();
    validateCheckoutRequest(request);
    const location = this.#layout.locate(request.url);
    const path = this.#layout.worktreePath(location, request.jobId);
    // The job's last checkout being returned (a redelivery right after a failure): wait for it.
    await this.#active.returnOf(location.key, request.jobId);
    if (this.#state !== 'open') throw new RepositoryCacheClosedError();
    if (this.#active.hasJob(location.key, request.jobId)) {
      throw new WorktreeInUseError(path, request.jobId);
    }
    this.#active.set(path, { key: location.key, jobId: request.jobId });
    try {
      const kept = await this.#checkoutKept(location, request);
      if (kept !== undefined) this.#active.delete(path);
      const checkout = kept ?? (await this.#checkout(location, path, request));
      if (this.#state !== 'open') {
        // close() began meanwhile and did not see this checkout: give it back at once.
        await checkout.release().catch(() => undefined);
        throw new RepositoryCacheClosedError();
      }
      return checkout;
    } catch (error) {
      this.#active.delete(path);
      if (request.signal?.aborted && !(error instanceof CheckoutAbortedError)) {
        throw new CheckoutAbortedError(error);
      }
      throw error;
    }
  }

  /** One eviction pass now (after any running one); repositories with live worktrees stay. */
  async evict(): Promise<EvictionResult> {
    return this.#evictionScheduler.runNow();
  }

  /** The disk use and last use of every cached repository, least recently used first. */
  usage(): Promise<CachedRepositoryUsage[]> {
    return this.#eviction.usage();
  }

  /** Event totals since the cache was opened (hits, clones, fetches, checkouts, evictions). */
  stats(): RepositoryCacheStats {
    return this.#events.stats();
  }

  /**
   * Stops accepting checkouts, removes the worktrees this instance still has (their jobs
   * should have been stopped first), waits for a running eviction and gives up the session
   * lease. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    const leftovers = this.#active.releases();
    if (leftovers.length > 0) {
      this.#options.logger.warn('closing repository cache with live checkouts; removing them', {
        count: leftovers.length,
      });
    }
    for (const release of leftovers) await release().catch(() => undefined);
    await this.#returns.close();
    await this.#evictionScheduler.stop();
    await this.#session.end();
    this.#state = 'closed';
  }

  async #checkout(
    location: RepositoryLocation,
    path: string,
    request: CheckoutRequest,
  ): Promise<RepositoryCheckout> {
    const started = performance.now();
    const prepared = await this.#preparation.prepare(location, path, request);
    const unlockedAt = performance.now();
    try {
      if (!prepared.recycled || !prepared.atCommit) {
        await this.#populate(location, path, prepared.commit, prepared.recycled, request.signal);
      }
    } catch (error) {
      await this.#returns.remove(location, path).catch((removeError: unknown) => {
        this.#options.logger.warn('cannot remove a worktree that failed to populate', {
          path,
          error: errorMessage(removeError),
        });
      });
      throw error;
    }
    // No snapshot: only one taken right after git restored a worktree this instance kept can
    // vouch that a tree is pristine, and this one may have been written since it was parked.
    const release = this.#returns.releaser(location, path, prepared.commit, undefined);
    this.#active.set(path, { key: location.key, jobId: request.jobId, release });
    const finished = performance.now();
    this.#events.emit({
      type: 'checkout',
      url: location.displayUrl,
      commit: prepared.commit,
      jobId: request.jobId,
      recycled: prepared.recycled,
      alreadyAtCommit: prepared.recycled && prepared.atCommit,
      lockWaitMs: prepared.lockWaitMs,
      lockHeldMs: prepared.lockHeldMs,
      populateMs: finished - unlockedAt,
      totalMs: finished - started,
    });
    if (prepared.cloned || prepared.fetched) this.#evictionScheduler.schedule(location.key);
    return { path, commit: prepared.commit, jobId: request.jobId, release };
  }

  /** Populates outside the lock; a recycled worktree that cannot be reset is replaced by a fresh one. */
  async #populate(
    location: RepositoryLocation,
    path: string,
    commit: string,
    recycled: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (recycled) {
      try {
        await this.#worktrees.populate(path, commit, true, signal);
        return;
      } catch (error) {
        if (signal?.aborted) throw error;
        this.#options.logger.warn('recycled worktree unusable; checking out afresh', {
          path,
          error: errorMessage(error),
        });
        await this.#locks.withLock(location.key, async () => {
          await this.#worktrees.remove(location, path);
          await this.#worktrees.add(location, path, commit);
        });
      }
    }
    await this.#worktrees.populate(path, commit, false, signal);
  }

  /**
   * Hands out a worktree this instance kept, without the repository lock: one at the
   * requested commit as it is; else, for a full SHA already in the clone, one at another
   * commit checked out to it in place (no other process touches a worktree this session
   * holds, and its registration keeps the clone from eviction). `undefined` when none is kept,
   * or the commit must be fetched (the kept worktree then goes to the shared pool, which the
   * locked checkout reuses).
   */
  async #checkoutKept(
    location: RepositoryLocation,
    request: CheckoutRequest,
  ): Promise<RepositoryCheckout | undefined> {
    const sha = request.commit.toLowerCase();
    if (!FULL_SHA.test(sha)) return undefined;
    const started = performance.now();
    const kept = this.#returns.takeKept(location.key, sha);
    if (kept === undefined) return undefined;
    const { path } = kept;
    // A snapshot describes the commit it was taken at: one checked out in place has none.
    if (kept.commit !== sha) this.#returns.releaseSnapshot(kept.snapshot);
    const handOut = (commit: string, atCommit: boolean): RepositoryCheckout => {
      const snapshot = atCommit ? kept.snapshot : undefined;
      const release = this.#returns.releaser(location, path, commit, snapshot);
      this.#active.set(path, { key: location.key, jobId: request.jobId, release });
      const finished = performance.now();
      this.#events.emit({
        type: 'checkout',
        url: location.displayUrl,
        commit,
        jobId: request.jobId,
        recycled: true,
        alreadyAtCommit: atCommit,
        lockWaitMs: 0,
        lockHeldMs: 0,
        populateMs: atCommit ? 0 : finished - started,
        totalMs: finished - started,
      });
      return { path, commit, jobId: request.jobId, release };
    };
    if (statSync(path, { throwIfNoEntry: false }) === undefined) {
      // Someone deleted its folder: unregister it, and check out afresh.
      this.#returns.releaseSnapshot(kept.snapshot);
      await this.#returns.remove(location, path).catch(() => undefined);
      return undefined;
    }
    if (kept.commit === sha) {
      this.#bare.reportHit(location, sha);
      return handOut(sha, true);
    }
    const commit = await this.#bare.resolveCached(location, sha);
    if (commit === undefined) {
      await this.#returns.handBack([kept]);
      return undefined;
    }
    this.#bare.reportHit(location, commit);
    this.#active.set(path, { key: location.key, jobId: request.jobId });
    try {
      await this.#worktrees.populate(path, commit, true, request.signal);
    } catch (error) {
      this.#active.delete(path);
      await this.#returns.remove(location, path).catch(() => undefined);
      if (request.signal?.aborted) throw error;
      this.#options.logger.warn('kept worktree unusable; checking out afresh', {
        path,
        error: errorMessage(error),
      });
      return undefined;
    }
    return handOut(commit, false);
  }
}
