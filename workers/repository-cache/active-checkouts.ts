/** A checkout one cache instance has out, or is preparing (then without `release`). */
export interface ActiveCheckout {
  /** The repository's key. */
  readonly key: string;
  readonly jobId: string;
  readonly release?: () => Promise<void>;
  /** Set once `release` was called: the worktree is on its way back. */
  releasing?: Promise<void>;
}

/**
 * The checkouts one cache instance has out, by worktree folder: what a second checkout of the
 * same job must wait for or is refused by, what eviction must leave alone, and what `close()`
 * gives back.
 */
export class ActiveCheckouts {
  readonly #byPath = new Map<string, ActiveCheckout>();

  get(path: string): ActiveCheckout | undefined {
    return this.#byPath.get(path);
  }

  set(path: string, checkout: ActiveCheckout): void {
    this.#byPath.set(path, checkout);
  }

  delete(path: string): void {
    this.#byPath.delete(path);
  }

  /** Whether the job has a checkout of the repository out (or being prepared). */
  hasJob(key: string, jobId: string): boolean {
    for (const active of this.#byPath.values()) {
      if (active.key === key && active.jobId === jobId) return true;
    }
    return false;
  }

  /** Waits for the return under way of the job's checkout, if any; never rejects. */
  async returnOf(key: string, jobId: string): Promise<void> {
    for (const active of this.#byPath.values()) {
      if (active.key === key && active.jobId === jobId && active.releasing !== undefined) {
        await active.releasing.catch(() => undefined);
        return;
      }
    }
  }

  /** The `release` of every checkout that is out. */
  releases(): (() => Promise<void>)[] {
    return [...this.#byPath.values()].flatMap(({ release }) => release ?? []);
  }

  /** The keys of the repositories with a checkout out (or being prepared). */
  repositoryKeys(): Set<string> {
    return new Set([...this.#byPath.values()].map((active) => active.key));
  }
}
