import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../core/errors.js';
import type { RepositoryLocation } from './cache-layout.js';
import type { ActiveCheckouts } from './active-checkouts.js';
import { KeptWorktrees, type KeptWorktree } from './kept-worktrees.js';
import { SnapshotPacing } from './snapshot-pacing.js';
import type { RepositoryCacheEventSink, RepositoryCacheLogger } from './repository-cache-events.js';
import type { RepositoryLocks } from './repository-lock.js';
import { WorktreeInspector, type HeldSnapshot } from './worktree-inspector.js';
import type { WorktreeRegistry } from './worktree-registry.js';
import { FINE_RACY_WINDOW_MS } from './worktree-snapshot.js';

/** How long after a restore its worktree is snapshotted: past the snapshot's racy window. */
const SNAPSHOT_SETTLE_MS = 2 * FINE_RACY_WINDOW_MS;

/** What {@link WorktreeReturns} works with: the cache's own parts and settings. */
export interface WorktreeReturnsOptions {
  readonly locks: RepositoryLocks;
  readonly worktrees: WorktreeRegistry;
  /** The cache's checkouts out; a returned worktree leaves them. */
  readonly active: ActiveCheckouts;
  readonly worktreePoolSize: number;
  readonly keptWorktreeIdleMs: number;
  readonly logger: RepositoryCacheLogger;
  readonly events: RepositoryCacheEventSink;
  /** Whether the cache is open: once it closes, nothing more is kept. */
  readonly isOpen: () => boolean;
}

/**
 * How a `RepositoryCache`'s released worktrees come back: restored by git unless their
 * snapshot shows the job changed nothing, then kept for the instance's own next checkouts,
 * parked in the shared pool, or removed. Owns the kept worktrees and the thread that
 * snapshots them; restores are followed by a snapshot as often as jobs leave their worktrees
 * untouched ({@link SnapshotPacing}).
 */
export class WorktreeReturns {
  /** The worktrees kept for this instance's next checkouts. */
  readonly #kept: KeptWorktrees;
  readonly #options: WorktreeReturnsOptions;
  readonly #inspector = new WorktreeInspector();
  /** Snapshots waiting for, or being taken of, worktrees kept after a restore. */
  readonly #settling = new Set<Promise<void>>();
  /** Aborted at close: snapshots still waiting to be taken are not. */
  readonly #closing = new AbortController();
  readonly #pacing = new SnapshotPacing();

  constructor(options: WorktreeReturnsOptions) {
    this.#options = options;
    // Each snapshot waiting to be taken listens once, until its wait ends: as many as worktrees
    // were released in the last SNAPSHOT_SETTLE_MS, which is no leak at any count.
    setMaxListeners(0, this.#closing.signal);
    this.#kept = new KeptWorktrees({
      capacity: options.worktreePoolSize,
      idleMs: options.keptWorktreeIdleMs,
      handBack: (worktrees) => this.handBack(worktrees),
    });
  }

  /** Takes a kept worktree (see {@link KeptWorktrees.take}). */
  takeKept(repositoryKey: string, commit: string): KeptWorktree | undefined {
    return this.#kept.take(repositoryKey, commit);
  }

  /** Lets the snapshot of a taken worktree go, when the checkout does not hand it on. */
  releaseSnapshot(snapshot: HeldSnapshot | undefined): void {
    this.#inspector.release(snapshot);
  }

  /**
   * The idempotent `release` of a checkout; a failed release may be tried again. `snapshot` is
   * the kept worktree's snapshot, taken after git last restored it, when it has one.
   */
  releaser(
    location: RepositoryLocation,
    path: string,
    commit: string,
    snapshot: HeldSnapshot | undefined,
  ): () => Promise<void> {
    let released: Promise<void> | undefined;
    return () => {
      if (released === undefined) {
        released = this.#release(location, path, commit, snapshot).catch((error: unknown) => {
          released = undefined;
          throw error;
        });
        const active = this.#options.active.get(path);
        if (active !== undefined) active.releasing = released;
      }
      return released;
    };
  }

  /**
   * Restores the worktree to its commit and deletes build outputs (outside the lock), unless
   * its snapshot shows the job changed nothing, then keeps it for this instance's next
   * checkout, or parks it in the shared pool when this instance keeps enough, or removes it
   * when the pool is full too. An untouched worktree keeps its snapshot for its next job; a
   * restored one that is kept gets a new one once git's changes are old enough to vouch for.
   */
  async #release(
    location: RepositoryLocation,
    path: string,
    commit: string,
    snapshot: HeldSnapshot | undefined,
  ): Promise<void> {
    const poolSize = this.#options.worktreePoolSize;
    if (poolSize === 0) {
      this.#inspector.release(snapshot);
      return this.remove(location, path);
    }
    const untouched =
      snapshot !== undefined && (await this.#inspector.isUnchanged(snapshot))
        ? snapshot
        : undefined;
    if (snapshot !== undefined) this.#pacing.learn(untouched !== undefined);
    // A restored tree is no longer the one the snapshot describes.
    if (untouched === undefined) this.#inspector.release(snapshot);
    const pristine =
      untouched !== undefined || (await this.#options.worktrees.makePristine(path, commit));
    if (pristine) {
      const url = location.displayUrl;
      this.#options.events.emit({ type: 'release', url, path, restored: untouched === undefined });
      const kept: KeptWorktree = { location, path, commit, snapshot: untouched };
      if (this.#options.isOpen() && this.#kept.keep(kept)) {
        this.#options.active.delete(path);
        if (untouched === undefined && this.#pacing.snapshotDue()) this.#snapshotWhenSettled(kept);
        return;
      }
      // Parked or removed, the worktree leaves this instance, and its snapshot with it.
      this.#inspector.release(untouched);
      const parked = await this.#options.locks.withLock(location.key, () =>
        this.#options.worktrees.park(location, path, poolSize),
      );
      if (parked) {
        this.#options.active.delete(path);
        return;
      }
    }
    await this.remove(location, path);
  }

  /**
   * Snapshots a kept worktree git has just restored, once its changes are past the snapshot's
   * racy window, unless it was taken or handed back meanwhile. A snapshot must describe what
   * git made, never merely what it finds (a process the job left running may still write): it
   * is kept only if git then finds the tree pristine at its commit, and the tree still matches
   * the snapshot after git looked.
   */
  #snapshotWhenSettled(kept: KeptWorktree): void {
    const settling = (async () => {
      await delay(SNAPSHOT_SETTLE_MS, undefined, { signal: this.#closing.signal });
      if (!this.#kept.has(kept)) return;
      const snapshot = await this.#inspector.take(kept.path);
      if (snapshot === undefined) return;
      let vouched = false;
      try {
        vouched =
          (await this.#options.worktrees.isPristineAt(kept.path, kept.commit)) &&
          (await this.#inspector.isUnchanged(snapshot)) &&
          this.#kept.attachSnapshot(kept, snapshot);
      } finally {
        if (!vouched) this.#inspector.release(snapshot);
      }
      if (!vouched) return;
      const { location, path } = kept;
      const entries = snapshot.entries;
      this.#options.events.emit({ type: 'snapshot', url: location.displayUrl, path, entries });
    })().catch(() => {
      // Closed meanwhile, or the check failed: the worktree stays without a snapshot, and its
      // next release restores it.
    });
    this.#settling.add(settling);
    void settling.finally(() => this.#settling.delete(settling));
  }

  /** Deletes the files outside the lock (they are the job's own), then unregisters under it. */
  async remove(location: RepositoryLocation, path: string): Promise<void> {
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
    await this.#options.locks.withLock(location.key, () =>
      this.#options.worktrees.remove(location, path),
    );
    this.#options.active.delete(path);
  }

  /**
   * Parks a repository's kept worktrees in the shared pool under one hold of its lock, and
   * removes those it has no room for. A failure is logged: the worktrees stay registered for
   * this session, and are cleaned up as stale once it ends.
   */
  async handBack(worktrees: readonly KeptWorktree[]): Promise<void> {
    const location = worktrees[0]?.location;
    if (location === undefined) return;
    // A parked worktree carries no snapshot: another process may take it and write to it.
    for (const worktree of worktrees) this.#inspector.release(worktree.snapshot);
    try {
      const unparked = await this.#options.locks.withLock(location.key, async () => {
        const left: KeptWorktree[] = [];
        for (const worktree of worktrees) {
          const parked = await this.#options.worktrees.park(
            location,
            worktree.path,
            this.#options.worktreePoolSize,
          );
          if (!parked) left.push(worktree);
        }
        return left;
      });
      for (const worktree of unparked) await this.remove(location, worktree.path);
    } catch (error) {
      this.#options.logger.warn('cannot hand kept worktrees back to the shared pool', {
        url: location.displayUrl,
        count: worktrees.length,
        error: errorMessage(error),
      });
    }
  }

  /**
   * Hands every kept worktree back (see {@link KeptWorktrees.handBackAll}), then stops the
   * snapshot thread, and waits for the snapshots under way (they then find nothing to do).
   */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#kept.handBackAll();
    await this.#inspector.close();
    await Promise.all(this.#settling);
  }
}
