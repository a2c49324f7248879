import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gitDir, touchMetadata, type RepositoryLocation } from './cache-layout.js';
import type { GitRunner } from './git-runner.js';
import {
  CommitNotFoundError,
  isTransientGitFailure,
  RepositoryCloneError,
  RepositoryFetchError,
} from './repository-cache-errors.js';
import type { RepositoryCacheEventSink } from './repository-cache-events.js';

/** How a ref was turned into a commit, for hit/fetch reporting. */
export interface ResolvedCommit {
  /** The full SHA of the commit. */
  readonly commit: string;
  readonly cloned: boolean;
  readonly fetched: boolean;
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;
const PARTIAL_CLONE_PREFIX = 'repository.git.partial-';

/**
 * Refspecs of the cache's bare clones: every branch and tag, mapped to the same names, so a
 * branch or tag name resolves directly and `fetch --prune` mirrors deletions. Nothing else
 * (no `refs/pull/*`), which keeps clones of busy GitHub repositories small.
 */
export const CACHE_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'] as const;

/**
 * The bare clone of one repository: making it, fetching into it, and resolving refs. Every
 * method runs under the repository's lock.
 */
export class BareRepository {
  constructor(
    private readonly git: GitRunner,
    private readonly events: RepositoryCacheEventSink,
  ) {}

  /**
   * Finds the commit `ref` names, talking to the remote only when needed: a full SHA or a tag
   * already in the clone is a hit (tags are treated as immutable); anything else (a branch,
   * which moves, or a missing commit) fetches first. A full SHA that no branch or tag
   * reaches is then fetched by itself (servers such as GitHub allow that).
   */
  async resolve(
    location: RepositoryLocation,
    ref: string,
    signal?: AbortSignal,
  ): Promise<ResolvedCommit> {
    const cloned = await this.#ensureClone(location, signal);
    const known = await this.#resolveImmutable(location, ref);
    if (known !== undefined) {
      if (!cloned) this.events.emit({ type: 'hit', url: location.displayUrl, commit: known });
      return { commit: known, cloned, fetched: false };
    }
    const fetched = !cloned;
    if (fetched) await this.#fetch(location, [], signal);
    let commit = await this.#revParse(location, `${ref}^{commit}`);
    if (commit === undefined && FULL_SHA.test(ref)) {
      await this.#fetch(location, [ref.toLowerCase()], signal, { missingIsAnswer: true });
      commit = await this.#resolveImmutable(location, ref);
    }
    if (commit === undefined) throw new CommitNotFoundError(location.displayUrl, ref);
    return { commit, cloned, fetched };
  }

  /**
   * The commit a full SHA or a tag names when the clone already has it, else `undefined`.
   * Needs no lock: it only reads objects and refs, which git updates atomically, so a fetch or
   * repack in another process can at worst make it answer `undefined` (the caller then
   * resolves under the lock).
   */
  async resolveCached(location: RepositoryLocation, ref: string): Promise<string | undefined> {
    return this.#resolveImmutable(location, ref);
  }

  /**
   * Identifies the bare clone on disk (device and inode of its folder), `undefined` when there
   * is none: a commit resolved outside the lock is trusted under it only if the clone is still
   * the same one (not evicted, nor evicted and cloned again, in between).
   */
  async identity(location: RepositoryLocation): Promise<string | undefined> {
    return stat(location.bareDir).then(
      (stats) => (stats.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined),
      () => undefined,
    );
  }

  /** Records a use of a commit resolved outside the lock as a hit. */
  reportHit(location: RepositoryLocation, commit: string): void {
    this.events.emit({ type: 'hit', url: location.displayUrl, commit });
  }

  /** Deletes half-made clones a crash left in the entry folder. */
  async removePartialClones(location: RepositoryLocation): Promise<void> {
    const names = await readdir(location.entryDir).catch(() => [] as string[]);
    for (const name of names.filter((entry) => entry.startsWith(PARTIAL_CLONE_PREFIX))) {
      await rm(join(location.entryDir, name), { recursive: true, force: true });
    }
  }

  /** Whether the bare clone exists (a clone appears only complete, by rename). */
  async exists(location: RepositoryLocation): Promise<boolean> {
    return stat(location.bareDir).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
  }

  async #ensureClone(location: RepositoryLocation, signal?: AbortSignal): Promise<boolean> {
    if (await this.exists(location)) return false;
    await mkdir(location.entryDir, { recursive: true });
    await this.removePartialClones(location);
    const partial = join(location.entryDir, `${PARTIAL_CLONE_PREFIX}${randomUUID().slice(0, 8)}`);
    const started = performance.now();
    try {
      const clone = ['clone', '--bare', '--quiet', '--template=', '--', location.remote, partial];
      const outcome = await this.git.tryRun(clone, { signal });
      if (!outcome.ok) throw new RepositoryCloneError(location.displayUrl, outcome.error);
      const partialDir = { bareDir: partial };
      await this.git.run(
        gitDir(partialDir, 'config', '--replace-all', 'remote.origin.fetch', CACHE_REFSPECS[0]),
      );
      await this.git.run(
        gitDir(partialDir, 'config', '--add', 'remote.origin.fetch', CACHE_REFSPECS[1]),
      );
      // Auto-gc after a fetch must not detach: a background repack would run outside our lock.
      await this.git.run(gitDir(partialDir, 'config', 'gc.autoDetach', 'false'));
      await this.git.run(gitDir(partialDir, 'config', 'maintenance.autoDetach', 'false'));
      await rename(partial, location.bareDir);
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      await rmdir(location.entryDir).catch(() => undefined);
      throw error;
    }
    await touchMetadata(location, Date.now());
    this.events.emit({
      type: 'clone',
      url: location.displayUrl,
      durationMs: performance.now() - started,
    });
    return true;
  }

  async #fetch(
    location: RepositoryLocation,
    refspecs: readonly string[],
    signal: AbortSignal | undefined,
    options: { missingIsAnswer?: boolean } = {},
  ): Promise<void> {
    const started = performance.now();
    const args = ['fetch', '--quiet', '--prune', '--no-write-fetch-head', 'origin', ...refspecs];
    const outcome = await this.git.tryRun(gitDir(location, ...args), { signal });
    if (!outcome.ok) {
      if (options.missingIsAnswer && !isTransientGitFailure(outcome.error)) return;
      throw new RepositoryFetchError(location.displayUrl, outcome.error);
    }
    this.events.emit({
      type: 'fetch',
      url: location.displayUrl,
      durationMs: performance.now() - started,
    });
  }

  async #resolveImmutable(location: RepositoryLocation, ref: string): Promise<string | undefined> {
    if (FULL_SHA.test(ref)) {
      const sha = ref.toLowerCase();
      const outcome = await this.git.tryRun(gitDir(location, 'cat-file', '-e', `${sha}^{commit}`));
      return outcome.ok ? sha : undefined;
    }
    return this.#revParse(location, `refs/tags/${ref}^{commit}`);
  }

  async #revParse(location: RepositoryLocation, revision: string): Promise<string | undefined> {
    const outcome = await this.git.tryRun(
      gitDir(location, 'rev-parse', '--verify', '--quiet', revision),
    );
    return outcome.ok && outcome.stdout !== '' ? outcome.stdout.trim() : undefined;
  }
}
