import type { BareRepository, ResolvedCommit } from './bare-repository.js';
import { touchMetadata, type RepositoryLocation } from './cache-layout.js';
import type { CheckoutRequest } from './checkout-request.js';
import type { RepositoryLocks } from './repository-lock.js';
import type { ClaimedWorktree, WorktreeRegistry } from './worktree-registry.js';

/** What the locked part of a checkout hands to the rest, with the time it spent on the lock. */
export type PreparedCheckout = ResolvedCommit &
  ClaimedWorktree & {
    /** Time spent waiting for the repository's lock. */
    readonly lockWaitMs: number;
    /** Time the lock was held. */
    readonly lockHeldMs: number;
  };

/** Collaborators of {@link CheckoutPreparation}. */
export interface CheckoutPreparationDeps {
  readonly locks: RepositoryLocks;
  readonly bare: BareRepository;
  readonly worktrees: WorktreeRegistry;
  /** Parked worktrees are claimed only when the cache parks any. */
  readonly worktreePoolSize: number;
}

/** A commit found in a clone outside the lock, with the identity of that clone. */
interface CachedCommit {
  readonly commit: string;
  readonly clone: string;
}

type Prepared = ResolvedCommit & ClaimedWorktree;

/** The locked part asks for the commit to be looked up outside the lock first. */
const RESOLVE_UNLOCKED = Symbol('resolve-unlocked');

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Least time between two records of a repository's use by one cache (LRU order). */
const TOUCH_INTERVAL_MS = 10_000;

/**
 * The part of a checkout that changes the bare repository, holding its lock no longer than
 * that takes: the commit is resolved, the job's slot freed, a parked worktree claimed (or a
 * new one registered) and the use recorded. A commit some registered worktree is at needs no
 * resolving at all (its objects are in this clone); a full SHA no worktree is at is looked up
 * in the clone outside the lock (git reads objects safely while another process fetches) and
 * trusted under the lock only if the clone is still the same one; a branch, or a commit the
 * clone lacks, is resolved under the lock, cloning or fetching as needed.
 */
export class CheckoutPreparation {
  readonly #deps: CheckoutPreparationDeps;
  /** When this cache last recorded a use of each repository. */
  readonly #touchedAt = new Map<string, number>();

  constructor(deps: CheckoutPreparationDeps) {
    this.#deps = deps;
  }

  /** Prepares the worktree at `path` for `request`; its files are populated afterwards. */
  async prepare(
    location: RepositoryLocation,
    path: string,
    request: CheckoutRequest,
  ): Promise<PreparedCheckout> {
    const timing = { lockWaitMs: 0, lockHeldMs: 0 };
    const first = await this.#locked(location, path, request, undefined, timing);
    const prepared =
      first === RESOLVE_UNLOCKED
        ? await this.#locked(
            location,
            path,
            request,
            (await this.#resolveUnlocked(location, request.commit)) ?? null,
            timing,
          )
        : first;
    return { ...prepared, ...timing };
  }

  /**
   * One hold of the lock; with `cached` undefined it may ask for an unlocked lookup first
   * (`RESOLVE_UNLOCKED`); with `cached` set (`null`: the lookup found nothing) it never does.
   */
  #locked(
    location: RepositoryLocation,
    path: string,
    request: CheckoutRequest,
    cached: undefined,
    timing: { lockWaitMs: number; lockHeldMs: number },
  ): Promise<Prepared | typeof RESOLVE_UNLOCKED>;
  #locked(
    location: RepositoryLocation,
    path: string,
    request: CheckoutRequest,
    cached: CachedCommit | null,
    timing: { lockWaitMs: number; lockHeldMs: number },
  ): Promise<Prepared>;
  async #locked(
    location: RepositoryLocation,
    path: string,
    request: CheckoutRequest,
    cached: CachedCommit | null | undefined,
    timing: { lockWaitMs: number; lockHeldMs: number },
  ): Promise<Prepared | typeof RESOLVE_UNLOCKED> {
    const { locks, bare, worktrees: registry, worktreePoolSize } = this.#deps;
    const requestedAt = performance.now();
    let lockedAt = requestedAt;
    try {
      return await locks.withLock(
        location.key,
        async () => {
          lockedAt = performance.now();
          const worktrees = await registry.list(location);
          const sha = request.commit.toLowerCase();
          let resolved: ResolvedCommit;
          if (worktrees.some((worktree) => worktree.head === sha)) {
            bare.reportHit(location, sha);
            resolved = { commit: sha, cloned: false, fetched: false };
          } else if (cached === undefined && FULL_SHA.test(sha)) {
            return RESOLVE_UNLOCKED;
          } else {
            resolved = await this.#resolveLocked(location, request, cached ?? undefined);
          }
          const others = await registry.prepareSlot(location, path, request.jobId, worktrees);
          const claimed =
            worktreePoolSize > 0
              ? await registry.claimParked(location, path, others, resolved.commit)
              : ({ recycled: false } as const);
          if (!claimed.recycled) await registry.add(location, path, resolved.commit);
          await this.#touch(location);
          return { ...resolved, ...claimed };
        },
        request.signal,
      );
    } finally {
      timing.lockWaitMs += lockedAt - requestedAt;
      timing.lockHeldMs += performance.now() - lockedAt;
    }
  }

  /**
   * Looks a full SHA up in the clone without the lock; `undefined` when there is no clone yet
   * or the commit is not in it (it must be fetched).
   */
  async #resolveUnlocked(
    location: RepositoryLocation,
    ref: string,
  ): Promise<CachedCommit | undefined> {
    const clone = await this.#deps.bare.identity(location);
    if (clone === undefined) return undefined;
    const commit = await this.#deps.bare.resolveCached(location, ref);
    return commit === undefined ? undefined : { commit, clone };
  }

  /**
   * Under the lock: the commit resolved outside it, if the clone is still the one it was found
   * in (eviction, which also holds the lock, may have replaced it meanwhile); otherwise the
   * full resolution, cloning or fetching as needed.
   */
  async #resolveLocked(
    location: RepositoryLocation,
    request: CheckoutRequest,
    cached: CachedCommit | undefined,
  ): Promise<ResolvedCommit> {
    const { bare } = this.#deps;
    if (cached !== undefined && (await bare.identity(location)) === cached.clone) {
      bare.reportHit(location, cached.commit);
      return { commit: cached.commit, cloned: false, fetched: false };
    }
    return bare.resolve(location, request.commit, request.signal);
  }

  /**
   * Records a use of the repository for LRU eviction, at most every `TOUCH_INTERVAL_MS` per
   * repository and cache: eviction needs the order of uses, not each one, and never evicts a
   * repository with a registered worktree anyway.
   */
  async #touch(location: RepositoryLocation): Promise<void> {
    const now = Date.now();
    if (now - (this.#touchedAt.get(location.key) ?? 0) < TOUCH_INTERVAL_MS) return;
    await touchMetadata(location, now);
    this.#touchedAt.set(location.key, now);
  }
}
