/**
 * The small logger the cache writes to; any structured logger (Powertools, pino, a console
 * wrapper) fits. Fields carry context such as the repository URL (credentials redacted).
 */
export interface RepositoryCacheLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default, so the cache stays quiet unless given one. */
export const silentLogger: RepositoryCacheLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** The kinds of {@link RepositoryCacheEvent}. */
export const RepositoryCacheEventType = {
  /** The requested commit was already in the bare clone: no network. */
  Hit: 'hit',
  /** The repository was not cached: a bare clone was made. */
  Clone: 'clone',
  /** The commit was missing or the ref movable (a branch): the bare clone was fetched. */
  Fetch: 'fetch',
  /** A worktree was handed out (after a hit, a clone or a fetch), with its timings. */
  Checkout: 'checkout',
  /** A least recently used repository was deleted to bring the cache under its size limit. */
  Eviction: 'eviction',
  /** A worktree left by a crashed process was removed. */
  StaleWorktreeRemoved: 'stale-worktree-removed',
  /** A job's worktree came back: restored by git, or kept as it was (untouched by the job). */
  Release: 'release',
  /** A kept worktree git restored got a snapshot, so its next untouched release skips git. */
  Snapshot: 'snapshot',
} as const;

/** One of the values of {@link RepositoryCacheEventType}. */
export type RepositoryCacheEventType =
  (typeof RepositoryCacheEventType)[keyof typeof RepositoryCacheEventType];

/**
 * What the cache reports for metrics (hit rate, clone and fetch durations, lock contention,
 * evictions). `url` always has credentials redacted.
 */
export type RepositoryCacheEvent =
  | { readonly type: 'hit'; readonly url: string; readonly commit: string }
  | { readonly type: 'clone'; readonly url: string; readonly durationMs: number }
  | { readonly type: 'fetch'; readonly url: string; readonly durationMs: number }
  | {
      readonly type: 'checkout';
      readonly url: string;
      readonly commit: string;
      readonly jobId: string;
      /** Whether a parked worktree was reused (see `worktreePoolSize`) rather than a new one added. */
      readonly recycled: boolean;
      /** Whether the reused worktree was parked at this very commit: no file was written. */
      readonly alreadyAtCommit: boolean;
      /** Time spent waiting for the repository's lock. */
      readonly lockWaitMs: number;
      /** Time the lock was held (clone/fetch if needed, worktree add or claim). */
      readonly lockHeldMs: number;
      /** Time populating the worktree's files, outside the lock. */
      readonly populateMs: number;
      readonly totalMs: number;
    }
  | {
      readonly type: 'eviction';
      readonly url: string;
      readonly bytes: number;
      readonly lastUsedAt: number;
    }
  | { readonly type: 'stale-worktree-removed'; readonly url: string; readonly path: string }
  | {
      readonly type: 'release';
      readonly url: string;
      readonly path: string;
      /** Whether git restored it; `false` when its snapshot showed the job changed nothing. */
      readonly restored: boolean;
    }
  | {
      readonly type: 'snapshot';
      readonly url: string;
      readonly path: string;
      readonly entries: number;
    };

/** Running totals of events since the cache was opened. */
export interface RepositoryCacheStats {
  readonly hits: number;
  readonly clones: number;
  readonly fetches: number;
  readonly checkouts: number;
  readonly evictions: number;
  readonly staleWorktreesRemoved: number;
  readonly releases: number;
  /** Releases that kept the worktree as it was, without a git restore. */
  readonly restoresSkipped: number;
  readonly snapshots: number;
}

/** Counts events into {@link RepositoryCacheStats} and forwards them to the caller's hook. */
export class RepositoryCacheEventSink {
  #stats = {
    hits: 0,
    clones: 0,
    fetches: 0,
    checkouts: 0,
    evictions: 0,
    staleWorktreesRemoved: 0,
    releases: 0,
    restoresSkipped: 0,
    snapshots: 0,
  };

  constructor(
    private readonly onEvent: ((event: RepositoryCacheEvent) => void) | undefined,
    private readonly logger: RepositoryCacheLogger,
  ) {}

  /** Counts `event` and hands it to the hook; a throwing hook is logged, never propagated. */
  emit(event: RepositoryCacheEvent): void {
    this.#count(event);
    try {
      this.onEvent?.(event);
    } catch (error) {
      this.logger.warn('repository cache event hook threw', {
        event: event.type,
        error: String(error),
      });
    }
  }

  /** A snapshot of the totals. */
  stats(): RepositoryCacheStats {
    return { ...this.#stats };
  }

  #count(event: RepositoryCacheEvent): void {
    switch (event.type) {
      case 'hit':
        this.#stats.hits += 1;
        return;
      case 'clone':
        this.#stats.clones += 1;
        return;
      case 'fetch':
        this.#stats.fetches += 1;
        return;
      case 'checkout':
        this.#stats.checkouts += 1;
        return;
      case 'eviction':
        this.#stats.evictions += 1;
        return;
      case 'stale-worktree-removed':
        this.#stats.staleWorktreesRemoved += 1;
        return;
      case 'release':
        this.#stats.releases += 1;
        if (!event.restored) this.#stats.restoresSkipped += 1;
        return;
      case 'snapshot':
        this.#stats.snapshots += 1;
        return;
      default: {
        const unknownEvent: never = event;
        throw new TypeError(`unknown event ${JSON.stringify(unknownEvent)}`);
      }
    }
  }
}
