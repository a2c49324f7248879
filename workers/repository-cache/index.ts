/**
 * The repository cache of the worker pools: bare clones per repository, one git worktree per
 * job, cross-process locking and LRU eviction. Start from {@link RepositoryCache.open}.
 */
export { RepositoryCache, type RepositoryCheckout } from './repository-cache.js';
export type { CheckoutRequest } from './checkout-request.js';
export { DEFAULT_MAX_SIZE_BYTES, type RepositoryCacheOptions } from './repository-cache-options.js';
export {
  RepositoryCacheEventType,
  silentLogger,
  type RepositoryCacheEvent,
  type RepositoryCacheLogger,
  type RepositoryCacheStats,
} from './repository-cache-events.js';
export type { CachedRepositoryUsage, EvictionResult } from './cache-eviction.js';
export { worktreeFolderName } from './cache-layout.js';
export {
  CheckoutAbortedError,
  CheckoutRequestError,
  CommitNotFoundError,
  GitCommandError,
  RepositoryCacheClosedError,
  RepositoryCacheError,
  RepositoryCacheOptionsError,
  RepositoryCloneError,
  RepositoryFetchError,
  RepositoryLockError,
  WorktreeError,
  WorktreeInUseError,
} from './repository-cache-errors.js';
