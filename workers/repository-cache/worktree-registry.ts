import { randomUUID } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { gitDir, type RepositoryLocation } from './cache-layout.js';
import type { CacheSession } from './cache-session.js';
import type { GitRunner } from './git-runner.js';
import { WorktreeError, WorktreeInUseError } from './repository-cache-errors.js';
import type { RepositoryCacheEventSink } from './repository-cache-events.js';

/** The git lock reason of a released worktree parked for reuse by the next checkout. */
export const PARKED_REASON = 'forge-repository-cache parked';
const PARKED_PREFIX = '.parked-';

/** A worktree as `git worktree list --porcelain` reports it (the bare repository itself excluded). */
export interface RegisteredWorktree {
  readonly path: string;
  readonly head: string | undefined;
  /** The reason git stores when the worktree is locked; the cache stores its session id there. */
  readonly lockReason: string | undefined;
}

/**
 * The worktree operations on one bare repository: add, populate, remove, and the clean-up of
 * worktrees left by crashed processes. Every method but {@link WorktreeRegistry.populate}
 * must run under the repository's lock; populating writes only into the job's own worktree
 * (its own index and HEAD under `worktrees/<name>/`) and reads objects, which git allows
 * concurrently with fetches and other worktree operations.
 */
export class WorktreeRegistry {
  constructor(
    private readonly git: GitRunner,
    private readonly session: CacheSession,
    private readonly events: RepositoryCacheEventSink,
  ) {}

  /** The worktrees git knows for this repository. */
  async list(location: RepositoryLocation): Promise<RegisteredWorktree[]> {
    const output = await this.git.run(gitDir(location, 'worktree', 'list', '--porcelain', '-z'));
    const worktrees: RegisteredWorktree[] = [];
    for (const record of output.split('\0\0')) {
      const fields = record.split('\0').filter((field) => field !== '');
      const path = valueOf(fields, 'worktree');
      if (path === undefined || fields.includes('bare')) continue;
      worktrees.push({
        path,
        head: valueOf(fields, 'HEAD'),
        lockReason: valueOf(fields, 'locked'),
      });
    }
    return worktrees;
  }

  /**
   * Frees `path` for a new checkout of `jobId`: a registered worktree of a dead session (or
   * one of ours that a failed release left behind) is removed, a bare folder deleted; a
   * worktree another live session holds is a {@link WorktreeInUseError}. Returns the other
   * registered worktrees, for {@link WorktreeRegistry.claimParked}.
   */
  async prepareSlot(
    location: RepositoryLocation,
    path: string,
    jobId: string,
  ): Promise<RegisteredWorktree[]> {
    const worktrees = await this.list(location);
    const registered = worktrees.find((worktree) => worktree.path === path);
    if (registered !== undefined) {
      const mine = this.session.owns(registered.lockReason);
      if (!mine && (await this.session.isOwnerAlive(registered.lockReason))) {
        throw new WorktreeInUseError(path, jobId);
      }
      await this.remove(location, path);
      if (!mine)
        this.events.emit({ type: 'stale-worktree-removed', url: location.displayUrl, path });
    } else if (await exists(path)) {
      await rm(path, { recursive: true, force: true });
    }
    return worktrees.filter((worktree) => worktree !== registered);
  }

  /** Registers a detached worktree at `commit` without writing its files yet, locked for this session. */
  async add(location: RepositoryLocation, path: string, commit: string): Promise<void> {
    const args = ['worktree', 'add', '--detach', '--no-checkout', '--lock'];
    const outcome = await this.git.tryRun(
      gitDir(location, ...args, '--reason', this.session.ownerReason, path, commit),
    );
    if (!outcome.ok) {
      throw new WorktreeError(path, `cannot add: ${outcome.error.stderr}`, {
        cause: outcome.error,
      });
    }
  }

  /**
   * Makes the worktree's files exactly `commit`'s. Runs outside the lock. A fresh worktree
   * (added without checkout) gets every file written; a recycled one is reset to `commit`,
   * which rewrites only what differs, and cleaned of every untracked and ignored file.
   */
  async populate(
    path: string,
    commit: string,
    recycled: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const steps = recycled
      ? [
          ['reset', '--hard', '--quiet', commit],
          ['clean', '-ffdxq'],
        ]
      : [['reset', '--hard', '--quiet']];
    for (const args of steps) {
      const outcome = await this.git.tryRun(args, { cwd: path, signal });
      if (!outcome.ok) {
        throw new WorktreeError(path, `cannot check out files: ${outcome.error.stderr}`, {
          cause: outcome.error,
        });
      }
    }
  }

  /**
   * Moves a parked worktree to `path` and locks it for this session; `false` when none is
   * parked (or the one found is damaged, then removed). The caller then populates it with
   * `recycled` set.
   */
  async claimParked(
    location: RepositoryLocation,
    path: string,
    worktrees: readonly RegisteredWorktree[],
  ): Promise<boolean> {
    const parked = worktrees.find((worktree) => worktree.lockReason === PARKED_REASON);
    if (parked === undefined) return false;
    try {
      await this.#relocate(location, parked.path, path, this.session.ownerReason);
      return true;
    } catch {
      // A parked worktree someone damaged (its folder deleted by hand...): drop it, add afresh.
      await this.remove(location, parked.path);
      await this.remove(location, path);
      return false;
    }
  }

  /**
   * Parks the released worktree at `path` for reuse, unless `poolSize` worktrees of this
   * repository are parked already (then `false`: the caller removes it instead).
   */
  async park(location: RepositoryLocation, path: string, poolSize: number): Promise<boolean> {
    const folders = await readdir(location.worktreesDir).catch(() => [] as string[]);
    const parkedCount = folders.filter((folder) => folder.startsWith(PARKED_PREFIX)).length;
    if (parkedCount >= poolSize) return false;
    const parkedPath = join(location.worktreesDir, `${PARKED_PREFIX}${randomUUID().slice(0, 8)}`);
    await this.#relocate(location, path, parkedPath, PARKED_REASON);
    return true;
  }

  /** Deletes untracked and ignored files (build outputs) so a parked worktree holds no more than its commit. */
  async clean(path: string): Promise<boolean> {
    return (await this.git.tryRun(['clean', '-ffdxq'], { cwd: path })).ok;
  }

  /**
   * Unregisters the worktree at `path` and deletes whatever is left of its folder (callers
   * may already have deleted the files outside the lock), then prunes other stale records.
   */
  async remove(location: RepositoryLocation, path: string): Promise<void> {
    const outcome = await this.git.tryRun(
      gitDir(location, 'worktree', 'remove', '--force', '--force', path),
    );
    if (!outcome.ok && !/is not a working tree/.test(outcome.error.stderr)) {
      throw new WorktreeError(path, `cannot remove: ${outcome.error.stderr}`, {
        cause: outcome.error,
      });
    }
    await rm(path, { recursive: true, force: true });
    await this.git.run(gitDir(location, 'worktree', 'prune'));
  }

  /**
   * Removes every worktree of this repository that a crashed process left behind (its session
   * is dead, or its folder is not registered at all), then `git worktree prune`. Parked
   * worktrees stay for reuse. Returns how many worktrees are live: held by a live session, or
   * not the cache's own (added by hand elsewhere), which eviction must respect.
   */
  async removeStale(location: RepositoryLocation): Promise<number> {
    let live = 0;
    const registered = await this.list(location);
    for (const worktree of registered) {
      const ours = isInside(worktree.path, location.worktreesDir);
      if (ours && worktree.lockReason === PARKED_REASON) continue;
      if (!ours || (await this.session.isOwnerAlive(worktree.lockReason))) {
        live += 1;
        continue;
      }
      await this.remove(location, worktree.path);
      this.events.emit({
        type: 'stale-worktree-removed',
        url: location.displayUrl,
        path: worktree.path,
      });
    }
    await this.git.run(gitDir(location, 'worktree', 'prune'));
    const registeredPaths = new Set(registered.map((worktree) => worktree.path));
    const folders = await readdir(location.worktreesDir).catch(() => [] as string[]);
    for (const folder of folders) {
      const path = join(location.worktreesDir, folder);
      if (registeredPaths.has(path)) continue;
      await rm(path, { recursive: true, force: true });
      this.events.emit({ type: 'stale-worktree-removed', url: location.displayUrl, path });
    }
    return live;
  }

  /**
   * `git worktree move` (forced twice: the worktree is locked), then the new lock reason is
   * written straight into the worktree's `locked` file, the format gitrepository-layout(5)
   * documents, which saves an unlock and a lock command while the repository lock is held.
   */
  async #relocate(
    location: RepositoryLocation,
    from: string,
    to: string,
    reason: string,
  ): Promise<void> {
    const move = ['worktree', 'move', '--force', '--force', from, to];
    const outcome = await this.git.tryRun(gitDir(location, ...move));
    if (!outcome.ok) {
      throw new WorktreeError(from, `cannot move to ${to}: ${outcome.error.stderr}`, {
        cause: outcome.error,
      });
    }
    const pointer = await readFile(join(to, '.git'), 'utf8');
    const adminDir = /^gitdir: (.+)$/m.exec(pointer)?.[1];
    if (adminDir === undefined) throw new WorktreeError(to, 'its .git file names no gitdir');
    await writeFile(join(adminDir.trim(), 'locked'), reason);
  }
}

function valueOf(fields: readonly string[], name: string): string | undefined {
  for (const field of fields) {
    if (field === name) return '';
    if (field.startsWith(`${name} `)) return field.slice(name.length + 1);
  }
  return undefined;
}

function isInside(path: string, folder: string): boolean {
  const relation = relative(folder, path);
  return relation !== '' && !relation.startsWith('..') && !isAbsolute(relation);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
