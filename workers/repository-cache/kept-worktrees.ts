import type { RepositoryLocation } from './cache-layout.js';
import type { HeldSnapshot } from './worktree-inspector.js';

/** A released worktree this cache keeps for its own next checkouts, pristine at `commit`. */
export interface KeptWorktree {
  readonly location: RepositoryLocation;
  readonly path: string;
  /** The full SHA its files are exactly. */
  readonly commit: string;
  /** Its pristine state as git made it, when one could be taken (see `WorktreeSnapshot`). */
  readonly snapshot?: HeldSnapshot | undefined;
}

/** Options of {@link KeptWorktrees}. */
export interface KeptWorktreesOptions {
  /** Worktrees kept per repository at most; a release beyond it goes to the shared pool. */
  readonly capacity: number;
  /** A repository's kept worktrees are handed back after this long without a checkout of it; 0 keeps none. */
  readonly idleMs: number;
  /** Hands worktrees back (park them in the shared pool, or remove them); must not throw. */
  readonly handBack: (worktrees: readonly KeptWorktree[]) => Promise<void>;
}

/**
 * Worktrees one cache instance released and keeps, by repository, still registered and locked
 * for its session, at their own folders. The next checkout of the same commit in this process
 * takes one as it is: no repository lock, no listing of every worktree, no rename, not one git
 * command, where a worktree parked in the shared pool costs all of those under the lock that
 * every checkout of the repository on the node waits for. A repository's kept worktrees go
 * back (to the shared pool) once it has gone `idleMs` without a checkout, or at close, so
 * that other processes can reuse them and eviction is not held off for good.
 */
export class KeptWorktrees {
  readonly #options: KeptWorktreesOptions;
  readonly #byRepository = new Map<string, KeptWorktree[]>();
  readonly #idleTimers = new Map<string, NodeJS.Timeout>();
  readonly #handingBack = new Set<Promise<void>>();

  constructor(options: KeptWorktreesOptions) {
    this.#options = options;
  }

  /** Keeps a released worktree; `false` when the repository has `capacity` kept already. */
  keep(worktree: KeptWorktree): boolean {
    if (this.#options.idleMs === 0) return false;
    const repositoryKey = worktree.location.key;
    const kept = this.#byRepository.get(repositoryKey) ?? [];
    if (kept.length >= this.#options.capacity) return false;
    kept.push(worktree);
    this.#byRepository.set(repositoryKey, kept);
    this.#restartIdleTimer(repositoryKey);
    return true;
  }

  /**
   * Takes a kept worktree of the repository, one at `commit` (a full SHA) when there is one,
   * else the one kept longest; `undefined` when the repository has none.
   */
  take(repositoryKey: string, commit: string): KeptWorktree | undefined {
    const kept = this.#byRepository.get(repositoryKey);
    if (kept === undefined) return undefined;
    const index = Math.max(
      0,
      kept.findIndex((worktree) => worktree.commit === commit),
    );
    const [taken] = kept.splice(index, 1);
    if (kept.length === 0) this.#forget(repositoryKey);
    else this.#restartIdleTimer(repositoryKey);
    return taken;
  }

  /** Whether this very keep of `worktree` still stands (it was neither taken nor handed back). */
  has(worktree: KeptWorktree): boolean {
    return this.#byRepository.get(worktree.location.key)?.includes(worktree) === true;
  }

  /**
   * Records `snapshot` on `worktree` if this very keep of it still stands (it was neither
   * taken nor handed back meanwhile); whether it did.
   */
  attachSnapshot(worktree: KeptWorktree, snapshot: HeldSnapshot): boolean {
    const kept = this.#byRepository.get(worktree.location.key);
    const index = kept?.indexOf(worktree) ?? -1;
    if (kept === undefined || index < 0) return false;
    kept[index] = { ...worktree, snapshot };
    return true;
  }

  /** Hands every kept worktree back now and waits for that, and for hand-backs under way. */
  async handBackAll(): Promise<void> {
    for (const repositoryKey of [...this.#byRepository.keys()]) this.#handBack(repositoryKey);
    await Promise.all(this.#handingBack);
  }

  #restartIdleTimer(repositoryKey: string): void {
    clearTimeout(this.#idleTimers.get(repositoryKey));
    const timer = setTimeout(() => this.#handBack(repositoryKey), this.#options.idleMs);
    timer.unref();
    this.#idleTimers.set(repositoryKey, timer);
  }

  #handBack(repositoryKey: string): void {
    const kept = this.#byRepository.get(repositoryKey) ?? [];
    this.#forget(repositoryKey);
    if (kept.length === 0) return;
    const handing = this.#options.handBack(kept).finally(() => {
      this.#handingBack.delete(handing);
    });
    this.#handingBack.add(handing);
  }

  #forget(repositoryKey: string): void {
    clearTimeout(this.#idleTimers.get(repositoryKey));
    this.#idleTimers.delete(repositoryKey);
    this.#byRepository.delete(repositoryKey);
  }
}
