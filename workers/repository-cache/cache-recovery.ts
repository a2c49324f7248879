import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { BareRepository } from './bare-repository.js';
import { deletePaths } from './cache-eviction.js';
import { readMetadata, type CacheLayout } from './cache-layout.js';
import type { RepositoryCacheLogger } from './repository-cache-events.js';
import type { RepositoryLocks } from './repository-lock.js';
import type { WorktreeRegistry } from './worktree-registry.js';

/** Collaborators of {@link recoverCache}. */
export interface CacheRecoveryDeps {
  readonly layout: CacheLayout;
  readonly locks: RepositoryLocks;
  readonly bare: BareRepository;
  readonly worktrees: WorktreeRegistry;
  readonly logger: RepositoryCacheLogger;
}

/**
 * Start-up clean-up after a crash of this or another process sharing the cache folder: in
 * each repository, half-made clones are deleted, worktrees whose session is dead are removed
 * and `git worktree prune` runs, and worktree folders git does not know are deleted; entries
 * without a finished clone, worktree folders without an entry and the trash go too.
 * A repository whose lock is busy is in use by a live process and is skipped; a broken one is
 * logged and skipped, so one bad entry never stops a worker from starting.
 */
export async function recoverCache(deps: CacheRecoveryDeps): Promise<void> {
  const { layout, locks, logger } = deps;
  const keys = await readdir(layout.repositoriesDir).catch(() => [] as string[]);
  for (const key of keys) {
    const metadata = await readMetadata(layout.locateKey(key));
    const location = layout.locateKey(key, metadata?.url ?? key);
    try {
      const outcome = await locks.tryWithLock(key, async () => {
        await deps.bare.removePartialClones(location);
        if (await deps.bare.exists(location)) {
          await deps.worktrees.removeStale(location);
          return;
        }
        await rm(location.entryDir, { recursive: true, force: true });
        await rm(location.worktreesDir, { recursive: true, force: true });
      });
      if (!outcome.acquired)
        logger.info('cached repository busy at start-up; not checked', { key });
    } catch (error) {
      logger.error('cannot clean up cached repository', { key, error: errorMessage(error) });
    }
  }
  await removeOrphanWorktreeFolders(deps, new Set(keys));
  const trash = await readdir(layout.trashDir).catch(() => [] as string[]);
  await deletePaths(
    trash.map((name) => join(layout.trashDir, name)),
    logger,
  );
}

async function removeOrphanWorktreeFolders(
  { layout, locks, logger }: CacheRecoveryDeps,
  knownKeys: ReadonlySet<string>,
): Promise<void> {
  const folders = await readdir(layout.worktreesRoot).catch(() => [] as string[]);
  for (const key of folders.filter((folder) => !knownKeys.has(folder))) {
    const location = layout.locateKey(key);
    try {
      await locks.tryWithLock(key, async () => {
        const entryExists = await stat(location.entryDir).then(
          () => true,
          () => false,
        );
        if (!entryExists) await rm(location.worktreesDir, { recursive: true, force: true });
      });
    } catch (error) {
      logger.error('cannot remove orphan worktree folder', { key, error: errorMessage(error) });
    }
  }
}
