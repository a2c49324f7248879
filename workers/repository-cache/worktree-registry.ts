import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { gitDir, type RepositoryLocation } from './cache-layout.js';
import type { CacheSession } from './cache-session.js';
import type { GitRunner } from './git-runner.js';
import { WorktreeError, WorktreeInUseError } from './repository-cache-errors.js';
import type { RepositoryCacheEventSink } from './repository-cache-events.js';

/** The git lock reason of a released worktree parked for reuse by the next checkout. */
export const PARKED_REASON = 'forge-repository-cache parked';
/**
 * The lock reason of a parked worktree known to hold exactly its HEAD commit (reset and
 * cleaned when parked), which a checkout of that commit takes as it is.
 */
export const PRISTINE_PARKED_REASON = `${PARKED_REASON} pristine`;
const PARKED_PREFIX = '.parked-';
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A parked worktree claimed for a checkout; `atCommit` when its files are already the commit's. */
export type ClaimedWorktree =
  { readonly recycled: false } | { readonly recycled: true; readonly atCommit: boolean };

/** A worktree registered in a bare repository (the bare repository itself excluded). */
export interface RegisteredWorktree {
  readonly path: string;
  /** The commit a detached worktree is at; `undefined` when HEAD names a branch. */
  readonly head: string | undefined;
  /** The reason git stores when the worktree is locked; the cache stores its session id there. */
  readonly lockReason: string | undefined;
  /** Its administrative folder, `<bare>/worktrees/<id>`. */
  readonly adminDir: string;
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

  /**
   * The worktrees git knows for this repository, read from its administrative folders
   * (`worktrees/<id>/gitdir`, `HEAD` and `locked`, as gitrepository-layout(5) documents them)
   * rather than by running `git worktree list`: this runs under the repository's lock on
   * every checkout. The files are a few bytes each in a local folder, so they are read
   * synchronously: with 25 worktrees, 75 asynchronous reads (open, stat, read and close each
   * through the thread pool) took several milliseconds per checkout, all of it under the lock
   * and on the event loop, where the synchronous reads take a fraction of one. An entry
   * without a readable `gitdir` is one `git worktree prune` removes.
   */
  list(location: RepositoryLocation): Promise<RegisteredWorktree[]> {
    const adminRoot = join(location.bareDir, 'worktrees');
    let ids: string[];
    try {
      ids = readdirSync(adminRoot);
    } catch {
      return Promise.resolve([]);
    }
    const worktrees: RegisteredWorktree[] = [];
    for (const id of ids.sort()) {
      const adminDir = join(adminRoot, id);
      const [gitdir, head, locked] = ['gitdir', 'HEAD', 'locked'].map((name) =>
        readSmallFile(join(adminDir, name)),
      );
      if (gitdir === undefined || gitdir.trim() === '') continue;
      worktrees.push({
        path: dirname(resolve(adminDir, gitdir.trim())),
        head: head !== undefined && FULL_SHA.test(head.trim()) ? head.trim() : undefined,
        lockReason: locked,
        adminDir,
      });
    }
    return Promise.resolve(worktrees);
  }

  /**
   * Frees `path` for a new checkout of `jobId`: a registered worktree of a dead session (or
   * one of ours that a failed release left behind) is removed, a bare folder deleted; a
   * worktree another live session holds is a {@link WorktreeInUseError}. Returns the other
   * registered worktrees, for {@link WorktreeRegistry.claimParked}. `listed` saves listing
   * them again when the caller did, under the same hold of the lock.
   */
  async prepareSlot(
    location: RepositoryLocation,
    path: string,
    jobId: string,
    listed?: readonly RegisteredWorktree[],
  ): Promise<RegisteredWorktree[]> {
    const worktrees = listed ?? (await this.list(location));
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
   * (added without checkout) gets every file written; a recycled one, parked reset and
   * cleaned, is checked out at `commit` with `--force --detach`, which rewrites only what
   * differs and never moves a branch.
   */
  async populate(
    path: string,
    commit: string,
    recycled: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const args = recycled
      ? ['checkout', '--force', '--detach', '--quiet', commit]
      : ['reset', '--hard', '--quiet'];
    const outcome = await this.git.tryRun(args, { cwd: path, signal });
    if (!outcome.ok) {
      throw new WorktreeError(path, `cannot check out files: ${outcome.error.stderr}`, {
        cause: outcome.error,
      });
    }
  }

  /**
   * Moves a parked worktree to `path` and locks it for this session, preferring one parked
   * pristine at `commit` (whose files are then already right); `recycled: false` when none is
   * parked (or the one found is damaged, then removed).
   */
  async claimParked(
    location: RepositoryLocation,
    path: string,
    worktrees: readonly RegisteredWorktree[],
    commit: string,
  ): Promise<ClaimedWorktree> {
    const parked = worktrees.filter((worktree) => isParked(worktree.lockReason));
    const ready = parked.find(
      (worktree) => worktree.lockReason === PRISTINE_PARKED_REASON && worktree.head === commit,
    );
    const chosen = ready ?? parked[0];
    if (chosen === undefined) return { recycled: false };
    try {
      await this.#relocate(location, chosen.path, path, this.session.ownerReason, chosen.adminDir);
      return { recycled: true, atCommit: chosen === ready };
    } catch {
      // A parked worktree someone damaged (its folder deleted by hand...): drop it, add afresh.
      await this.remove(location, chosen.path);
      await this.remove(location, path);
      return { recycled: false };
    }
  }

  /**
   * Parks the released worktree at `path` for reuse, unless `poolSize` worktrees of this
   * repository are parked already (then `false`: the caller removes it instead). The caller
   * made it pristine first ({@link WorktreeRegistry.makePristine}).
   */
  async park(location: RepositoryLocation, path: string, poolSize: number): Promise<boolean> {
    const folders = await readdir(location.worktreesDir).catch(() => [] as string[]);
    const parkedCount = folders.filter((folder) => folder.startsWith(PARKED_PREFIX)).length;
    if (parkedCount >= poolSize) return false;
    const parkedPath = join(location.worktreesDir, `${PARKED_PREFIX}${randomUUID().slice(0, 8)}`);
    await this.#relocate(location, path, parkedPath, PRISTINE_PARKED_REASON);
    return true;
  }

  /**
   * Brings a released worktree back to exactly `commit` (default its HEAD), detached: tracked
   * files the job changed are restored, untracked and ignored ones (build outputs) deleted,
   * and a HEAD the job moved is put back. Runs outside the lock; `false` when git could not,
   * and the worktree must not be reused.
   */
  async makePristine(path: string, commit?: string): Promise<boolean> {
    const target = commit === undefined ? [] : [commit];
    const outcome = await this.git.tryRunInSequence(
      [
        ['checkout', '--force', '--detach', '--quiet', ...target],
        ['clean', '-ffdxq'],
      ],
      // Nothing waits on it: it yields the cores to the steps starting beside it.
      { cwd: path, background: true },
    );
    return outcome.ok;
  }

  /**
   * Whether the worktree at `path` is exactly `commit`, detached there, with not one file
   * changed, added or ignored and no empty folder a clean would delete, by git's own reading:
   * what a restore would leave. Neither command writes (not even a refreshed index), so a
   * snapshot taken before them still describes the tree; settings a job could have written to
   * the shared repository to hide files (an fsmonitor, an untracked cache; untracked-file
   * modes and ignored submodules by the options) are overridden. Background work.
   */
  async isPristineAt(path: string, commit: string): Promise<boolean> {
    const outcome = await this.git.tryRunInSequence(
      [
        [
          ...PRISTINE_CHECK_CONFIG,
          'status',
          '--porcelain=v2',
          '--branch',
          '--ignored',
          '--untracked-files=all',
          '--ignore-submodules=none',
        ],
        [...PRISTINE_CHECK_CONFIG, 'clean', '-ffdxn'],
      ],
      { cwd: path, background: true },
    );
    if (!outcome.ok) return false;
    const lines = outcome.stdout.split('\n').filter((line) => line !== '');
    const headers = lines.filter((line) => line.startsWith('# '));
    return (
      lines.length === headers.length &&
      headers.includes(`# branch.oid ${commit}`) &&
      headers.includes('# branch.head (detached)')
    );
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
      if (ours && isParked(worktree.lockReason)) continue;
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
   * Moves a registered worktree from `from` to `to` in the same folder and gives it a new lock
   * reason, as `git worktree move` would but without a git process while the repository lock
   * is held: the folder is renamed and the administrative files that name it, `gitdir` and
   * `locked` (gitrepository-layout(5)), are rewritten. The worktree's own `.git` file names the
   * administrative folder, which does not move, so it stays valid.
   */
  async #relocate(
    location: RepositoryLocation,
    from: string,
    to: string,
    reason: string,
    listedAdminDir?: string,
  ): Promise<void> {
    let adminDir = listedAdminDir;
    if (adminDir === undefined) {
      try {
        const pointer = await readFile(join(from, '.git'), 'utf8');
        adminDir = /^gitdir: (.+)$/m.exec(pointer)?.[1]?.trim();
      } catch (error) {
        throw new WorktreeError(from, `cannot read its .git file: ${String(error)}`, {
          cause: error,
        });
      }
      if (adminDir === undefined) throw new WorktreeError(from, 'its .git file names no gitdir');
      adminDir = resolve(from, adminDir);
    }
    if (!isInside(adminDir, join(location.bareDir, 'worktrees'))) {
      throw new WorktreeError(from, `its .git file names a foreign gitdir ${adminDir}`);
    }
    await rename(from, to);
    await writeFile(join(adminDir, 'gitdir'), `${join(to, '.git')}\n`);
    await writeFile(join(adminDir, 'locked'), reason);
  }
}

/** What {@link WorktreeRegistry.isPristineAt} overrides of the repository's own settings. */
const PRISTINE_CHECK_CONFIG = [
  '--no-optional-locks',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.untrackedCache=false',
];

/** Whether a lock reason marks a parked worktree (pristine or, from older releases, cleaned). */
function isParked(reason: string | undefined): boolean {
  return reason === PARKED_REASON || reason === PRISTINE_PARKED_REASON;
}

function isInside(path: string, folder: string): boolean {
  const relation = relative(folder, path);
  return relation !== '' && !relation.startsWith('..') && !isAbsolute(relation);
}

/** A small file's text without its final newline; `undefined` when it cannot be read. */
function readSmallFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
