import { z } from 'zod';
import { RepositoryCacheOptionsError } from './repository-cache-errors.js';
import {
  silentLogger,
  type RepositoryCacheEvent,
  type RepositoryCacheLogger,
} from './repository-cache-events.js';

/** 100 GiB: the cache size of the worker pools in the specification. */
export const DEFAULT_MAX_SIZE_BYTES = 100 * 1024 ** 3;

/** Options of `RepositoryCache.open`. Only `cacheDir` is required. */
export interface RepositoryCacheOptions {
  /** The cache folder (e.g. `/cache/repos`), created if missing; processes may share it. */
  readonly cacheDir: string;
  /**
   * Where job worktrees go (`<worktreesDir>/<repository key>/<job folder>`); defaults to
   * `<cacheDir>/worktrees`. It may be another volume (e.g. `/workspace`); it should not be
   * shared between caches of different folders.
   */
  readonly worktreesDir?: string;
  /** Size above which least recently used repositories are evicted; default 100 GiB. */
  readonly maxSizeBytes?: number;
  /**
   * How many released worktrees per repository are parked for reuse instead of removed;
   * default 0 (every release removes its worktree). A recycled worktree is reset to the new
   * commit and cleaned of untracked and ignored files, so it rewrites only the files that
   * differ instead of the whole tree: much faster for large trees, at the cost of keeping
   * up to this many checkouts on disk (counted in the cache size, removed by eviction).
   */
  readonly worktreePoolSize?: number;
  /**
   * How long a repository may go without a checkout by this instance before the worktrees it
   * released and kept (up to `worktreePoolSize`) are parked for every process; default 30 s.
   * A kept worktree is handed to this instance's next checkout without the repository lock;
   * 0 parks every release at once.
   */
  readonly keptWorktreeIdleMs?: number;
  /** How git runs: binary, extra environment and configuration (credentials), timeout. */
  readonly git?: {
    readonly binary?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly config?: Readonly<Record<string, string>>;
    /** Longest a single git command may run; default 30 minutes (a large first clone). */
    readonly timeoutMs?: number;
  };
  /** A lock (or session lease) not refreshed for this long is taken over; default 15 s. */
  readonly lockStaleMs?: number;
  /** Longest wait for a repository lock held by another process; default 15 minutes. */
  readonly lockTimeoutMs?: number;
  readonly logger?: RepositoryCacheLogger;
  /** Receives every cache event (hit, clone, fetch, checkout, eviction) for metrics. */
  readonly onEvent?: (event: RepositoryCacheEvent) => void;
}

/** {@link RepositoryCacheOptions} validated, with every default applied. */
export interface CompiledRepositoryCacheOptions {
  readonly cacheDir: string;
  readonly worktreesDir: string | undefined;
  readonly maxSizeBytes: number;
  readonly worktreePoolSize: number;
  readonly keptWorktreeIdleMs: number;
  readonly git: {
    readonly binary: string;
    readonly env: Readonly<Record<string, string>>;
    readonly config: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
  };
  readonly lockStaleMs: number;
  readonly lockTimeoutMs: number;
  readonly logger: RepositoryCacheLogger;
  readonly onEvent: ((event: RepositoryCacheEvent) => void) | undefined;
}

const positiveInteger = z.number().int().positive();

const dataSchema = z.object({
  cacheDir: z.string().trim().min(1),
  worktreesDir: z.string().trim().min(1).optional(),
  maxSizeBytes: positiveInteger.default(DEFAULT_MAX_SIZE_BYTES),
  worktreePoolSize: z.number().int().min(0).default(0),
  keptWorktreeIdleMs: z.number().int().min(0).default(30_000),
  git: z
    .object({
      binary: z.string().min(1).default('git'),
      env: z.record(z.string(), z.string()).default({}),
      config: z.record(z.string().min(1), z.string()).default({}),
      timeoutMs: positiveInteger.default(30 * 60_000),
    })
    .prefault({}),
  lockStaleMs: z.number().int().min(2000).default(15_000),
  lockTimeoutMs: positiveInteger.default(15 * 60_000),
});

/** Validates `options` and applies defaults; a bad value is a {@link RepositoryCacheOptionsError} naming it. */
export function compileRepositoryCacheOptions(
  options: RepositoryCacheOptions,
): CompiledRepositoryCacheOptions {
  const parsed = dataSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') || 'options';
    throw new RepositoryCacheOptionsError(
      `invalid repository cache option ${name}: ${issue?.message ?? 'invalid'}`,
    );
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new RepositoryCacheOptionsError(
      'invalid repository cache option onEvent: not a function',
    );
  }
  return {
    ...parsed.data,
    worktreesDir: parsed.data.worktreesDir,
    logger: options.logger ?? silentLogger,
    onEvent: options.onEvent,
  };
}
