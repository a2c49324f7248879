import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import getFolderSize from 'get-folder-size';
import { errorMessage } from '../../core/errors.js';
import { readMetadata, type CacheLayout, type RepositoryLocation } from './cache-layout.js';
import type { RepositoryCacheEventSink, RepositoryCacheLogger } from './repository-cache-events.js';
import type { RepositoryLocks } from './repository-lock.js';
import type { WorktreeRegistry } from './worktree-registry.js';

/** The disk use of one cached repository: its bare clone plus its job worktrees. */
export interface CachedRepositoryUsage {
  readonly key: string;
  /** The repository's URL, credentials redacted (the key when its metadata is missing). */
  readonly url: string;
  readonly bytes: number;
  /** Milliseconds since the epoch; 0 when unknown (such entries are evicted first). */
  readonly lastUsedAt: number;
}

/** What one eviction pass found and did. */
export interface EvictionResult {
  /** Total size before the pass. */
  readonly totalBytes: number;
  readonly maxBytes: number;
  readonly evicted: readonly CachedRepositoryUsage[];
  /** Total size after the pass; still above `maxBytes` when everything left is in use. */
  readonly remainingBytes: number;
}

/** Collaborators of {@link CacheEviction}. */
export interface CacheEvictionDeps {
  readonly layout: CacheLayout;
  readonly locks: RepositoryLocks;
  readonly worktrees: WorktreeRegistry;
  readonly events: RepositoryCacheEventSink;
  readonly logger: RepositoryCacheLogger;
  readonly maxBytes: number;
}

type VictimOutcome =
  { readonly evicted: true; readonly trashPath: string } | { readonly evicted: false };

/**
 * Least-recently-used eviction. Sizes come from a `du`-like walk (`get-folder-size`, which
 * counts hard-linked files once) of each repository's entry and worktree folders; last use
 * comes from the metadata each checkout writes. While the total exceeds the maximum, the
 * least recently used repositories are deleted, skipping any whose lock is busy (in use by
 * this or another process), any with a live worktree, and the keys the caller protects.
 * Deletion renames the entry into `trash/` under the lock, then deletes it outside the lock.
 */
export class CacheEviction {
  constructor(private readonly deps: CacheEvictionDeps) {}

  /** The disk use of every cached repository, least recently used first. */
  async usage(): Promise<CachedRepositoryUsage[]> {
    const keys = await readdir(this.deps.layout.repositoriesDir).catch(() => [] as string[]);
    const entries = await Promise.all(
      keys.map((key) => this.#measure(this.deps.layout.locateKey(key))),
    );
    return entries.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  }

  /** One eviction pass; never deletes a repository in `protectedKeys`. */
  async run(protectedKeys: ReadonlySet<string> = new Set()): Promise<EvictionResult> {
    const usage = await this.usage();
    const totalBytes = usage.reduce((sum, entry) => sum + entry.bytes, 0);
    let remainingBytes = totalBytes;
    const evicted: CachedRepositoryUsage[] = [];
    const trashPaths: string[] = [];
    for (const candidate of usage) {
      if (remainingBytes <= this.deps.maxBytes) break;
      if (protectedKeys.has(candidate.key)) continue;
      const outcome = await this.deps.locks.tryWithLock(candidate.key, () =>
        this.#evict(candidate),
      );
      if (!outcome.acquired || !outcome.value.evicted) continue;
      trashPaths.push(outcome.value.trashPath);
      remainingBytes -= candidate.bytes;
      evicted.push(candidate);
      this.deps.events.emit({
        type: 'eviction',
        url: candidate.url,
        bytes: candidate.bytes,
        lastUsedAt: candidate.lastUsedAt,
      });
      this.deps.logger.info('evicted cached repository', { ...candidate });
    }
    await deletePaths(trashPaths, this.deps.logger);
    if (remainingBytes > this.deps.maxBytes) {
      this.deps.logger.warn('repository cache above its maximum size; the rest is in use', {
        remainingBytes,
        maxBytes: this.deps.maxBytes,
      });
    }
    return { totalBytes, maxBytes: this.deps.maxBytes, evicted, remainingBytes };
  }

  async #measure(location: RepositoryLocation): Promise<CachedRepositoryUsage> {
    const [metadata, entryBytes, worktreeBytes] = await Promise.all([
      readMetadata(location),
      getFolderSize.loose(location.entryDir),
      getFolderSize.loose(location.worktreesDir),
    ]);
    return {
      key: location.key,
      url: metadata?.url ?? location.key,
      bytes: entryBytes + worktreeBytes,
      lastUsedAt: metadata?.lastUsedAt ?? 0,
    };
  }

  async #evict(candidate: CachedRepositoryUsage): Promise<VictimOutcome> {
    const location = this.deps.layout.locateKey(candidate.key, candidate.url);
    const metadata = await readMetadata(location);
    if ((metadata?.lastUsedAt ?? 0) !== candidate.lastUsedAt) return { evicted: false };
    const hasClone = await readdir(location.bareDir).then(
      () => true,
      () => false,
    );
    if (hasClone && (await this.deps.worktrees.removeStale(location)) > 0)
      return { evicted: false };
    await mkdir(this.deps.layout.trashDir, { recursive: true });
    const trashPath = join(
      this.deps.layout.trashDir,
      `${candidate.key}-${randomUUID().slice(0, 8)}`,
    );
    await rename(location.entryDir, trashPath);
    await rm(location.worktreesDir, { recursive: true, force: true });
    return { evicted: true, trashPath };
  }
}

/** Deletes entries moved to the trash, logging (not throwing) what cannot be deleted. */
export async function deletePaths(
  paths: readonly string[],
  logger: RepositoryCacheLogger,
): Promise<void> {
  for (const path of paths) {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (error) {
      logger.warn('cannot delete an evicted repository', { path, error: errorMessage(error) });
    }
  }
}
