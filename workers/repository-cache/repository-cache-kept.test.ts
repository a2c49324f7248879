import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { git } from '../../test/support/git-repository.js';
import {
  appendNumberedCommit,
  createNumberedRepository,
  createTempFolder,
  filesOf,
  readCommitIndex,
  recordEvents,
  registeredWorktrees,
  useCleanups,
} from '../../test/support/repository-cache-fixtures.js';
import { RepositoryCache } from './index.js';
import { WorktreeInUseError } from './repository-cache-errors.js';

const cleanups = useCleanups();

async function setUp(options: { worktreePoolSize: number; keptWorktreeIdleMs?: number }) {
  const { repository, commits } = await createNumberedRepository(3);
  cleanups.push(() => repository.remove());
  const folder = await createTempFolder();
  cleanups.push(() => folder.remove());
  const recorder = recordEvents();
  const cache = await RepositoryCache.open({
    cacheDir: folder.path,
    ...options,
    onEvent: recorder.onEvent,
  });
  cleanups.push(() => cache.close());
  const lastCheckout = () => recorder.events.filter((event) => event.type === 'checkout').at(-1);
  const lastRelease = () => recorder.events.filter((event) => event.type === 'release').at(-1);
  /** Waits (a bounded while) for the snapshot the last restore of a kept worktree is followed by. */
  const snapshotTaken = async (): Promise<void> => {
    for (let poll = 0; poll < 200 && recorder.count('snapshot') === 0; poll += 1) await delay(50);
    if (recorder.count('snapshot') === 0) throw new Error('no snapshot was taken in 10 s');
  };
  return {
    repository,
    commits,
    cacheDir: folder.path,
    cache,
    lastCheckout,
    lastRelease,
    snapshotTaken,
  };
}

/** Tampers with a checkout the way a build does: a tracked file changed, one deleted, outputs. */
async function dirty(path: string): Promise<void> {
  await writeFile(join(path, 'index.txt'), 'tampered\n');
  await rm(join(path, 'file-0.txt'));
  await mkdir(join(path, 'dist'));
  await writeFile(join(path, 'dist', 'output.bin'), 'build output');
}

/** The inode of a worktree's index: a restore by git writes a new index file. */
async function indexInode(worktree: string): Promise<number> {
  const index = await git(worktree, 'rev-parse', '--path-format=absolute', '--git-path', 'index');
  return (await stat(index)).ino;
}

/**
 * A cache keeping one worktree, and job `b`'s checkout of that worktree once it has a
 * snapshot: job `a`'s release restored it with git, and the snapshot followed.
 */
async function snapshottedCheckout() {
  const context = await setUp({ worktreePoolSize: 1 });
  const { repository, commits, cache, snapshotTaken } = context;
  const checkoutOf = (jobId: string) =>
    cache.checkout({ url: repository.path, commit: commits[1]!, jobId });
  const first = await checkoutOf('a');
  await first.release();
  await snapshotTaken();
  return { ...context, checkoutOf, checkout: await checkoutOf('b') };
}

describe('RepositoryCache kept worktrees', () => {
  it('keeps a worktree its job left untouched without restoring it', async () => {
    const { cache, checkoutOf, checkout: untouched, lastRelease } = await snapshottedCheckout();
    const index = await indexInode(untouched.path);

    await untouched.release();
    const next = await checkoutOf('c');

    expect(lastRelease()).toMatchObject({ path: untouched.path, restored: false });
    expect(next.path).toBe(untouched.path);
    expect(await indexInode(next.path)).toBe(index);
    expect(await git(next.path, 'status', '--porcelain', '--ignored')).toBe('');
    expect(cache.stats()).toMatchObject({ releases: 2, restoresSkipped: 1, snapshots: 1 });
    await next.release();
  });

  it('restores a worktree its job changed, however quickly after the hand-out', async () => {
    const { checkoutOf, checkout: changing, lastRelease } = await snapshottedCheckout();

    await dirty(changing.path);
    await changing.release();
    const next = await checkoutOf('c');

    expect(lastRelease()).toMatchObject({ path: changing.path, restored: true });
    expect(next.path).toBe(changing.path);
    expect(await readCommitIndex(next.path)).toBe(1);
    expect(await git(next.path, 'status', '--porcelain', '--ignored')).toBe('');
    await next.release();
  });

  it.each([
    ['a file', (path: string) => writeFile(join(path, 'leftover.txt'), 'written after the job')],
    ['an empty folder', (path: string) => mkdir(join(path, 'leftover'))],
  ])(
    'never takes %s a process left running makes after a restore for pristine',
    async (_what, leave) => {
      const { repository, commits, cache } = await setUp({ worktreePoolSize: 1 });
      const first = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'a' });
      await first.release();
      // A process the job left running writes after the restore, before the snapshot is taken
      // (which then waits long enough to be taken, and refused, before the next checkout).
      await leave(first.path);
      await delay(1_000);

      const second = await cache.checkout({
        url: repository.path,
        commit: commits[1]!,
        jobId: 'b',
      });
      await second.release();
      const third = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'c' });

      expect(third.path).toBe(first.path);
      expect(await filesOf(third.path)).not.toContain('leftover.txt');
      expect(await git(third.path, 'clean', '-ffdxn')).toBe('');
      expect(await git(third.path, 'status', '--porcelain', '--ignored')).toBe('');
      await third.release();
    },
  );

  it('hands a released worktree to its next checkout of the commit in place, pristine and without the lock', async () => {
    const { repository, commits, cacheDir, cache, lastCheckout } = await setUp({
      worktreePoolSize: 2,
    });
    const commit = commits[1]!;
    const first = await cache.checkout({ url: repository.path, commit, jobId: 'run-1/a' });
    await git(first.path, 'checkout', '--quiet', '--detach', commits[0]!);
    await dirty(first.path);
    await first.release();

    const second = await cache.checkout({ url: repository.path, commit, jobId: 'run-1/b' });

    expect(second.path).toBe(first.path);
    expect(second.commit).toBe(commit);
    expect(lastCheckout()).toMatchObject({
      jobId: 'run-1/b',
      recycled: true,
      alreadyAtCommit: true,
      lockWaitMs: 0,
      lockHeldMs: 0,
    });
    expect(await git(second.path, 'rev-parse', 'HEAD')).toBe(commit);
    expect(await readCommitIndex(second.path)).toBe(1);
    const tracked = (await git(repository.path, 'ls-tree', '-r', '--name-only', commit)).split(
      '\n',
    );
    expect(await filesOf(second.path)).toEqual(tracked.sort());
    expect(await git(second.path, 'status', '--porcelain', '--ignored')).toBe('');
    const registered = await registeredWorktrees(cacheDir, second.path);
    expect(registered).toHaveLength(1);
    expect(registered[0]).not.toContain('parked');
    await second.release();
  });

  it('checks a kept worktree out in place at another commit the clone has', async () => {
    const { repository, commits, cacheDir, cache, lastCheckout } = await setUp({
      worktreePoolSize: 1,
    });
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await first.release();

    const second = await cache.checkout({ url: repository.path, commit: commits[2]!, jobId: 'b' });

    expect(second.path).toBe(first.path);
    expect(lastCheckout()).toMatchObject({ recycled: true, alreadyAtCommit: false, lockWaitMs: 0 });
    expect(await readCommitIndex(second.path)).toBe(2);
    expect(await git(second.path, 'status', '--porcelain', '--ignored')).toBe('');
    expect(await registeredWorktrees(cacheDir, second.path)).toHaveLength(1);
    await second.release();
  });

  it('parks a kept worktree in the shared pool when its commit must be fetched, and reuses it from there', async () => {
    const { repository, cacheDir, cache, lastCheckout } = await setUp({ worktreePoolSize: 1 });
    const first = await cache.checkout({ url: repository.path, commit: 'HEAD', jobId: 'a' });
    await first.release();
    const newer = await appendNumberedCommit(repository, 3);

    const second = await cache.checkout({ url: repository.path, commit: newer, jobId: 'b' });

    expect(second.path).not.toBe(first.path);
    expect(lastCheckout()).toMatchObject({ recycled: true, alreadyAtCommit: false });
    expect(await readCommitIndex(second.path)).toBe(3);
    expect(await registeredWorktrees(cacheDir, second.path)).toHaveLength(1);
    await second.release();
  });

  it('parks kept worktrees for other processes after the idle time and at close', async () => {
    const { repository, commits, cacheDir, cache } = await setUp({
      worktreePoolSize: 2,
      keptWorktreeIdleMs: 50,
    });
    const idle = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    const closing = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'b' });
    await idle.release();
    let records = await registeredWorktrees(cacheDir, idle.path);
    // Parking renames the folder, then records the reason: wait for both.
    const parked = (record: string): boolean => record.includes('parked pristine');
    for (let poll = 0; poll < 100 && !records.some(parked); poll++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      records = await registeredWorktrees(cacheDir, idle.path);
    }
    const afterIdle = records;

    await closing.release();
    await cache.close();
    const afterClose = await registeredWorktrees(cacheDir, idle.path);

    expect(afterIdle.filter((record) => record.includes('parked pristine'))).toHaveLength(1);
    expect(afterClose).toHaveLength(2);
    expect(afterClose.every((record) => record.includes('parked pristine'))).toBe(true);
  });

  it('checks out afresh when the folder of a kept worktree was deleted', async () => {
    const { repository, commits, cacheDir, cache, lastCheckout } = await setUp({
      worktreePoolSize: 1,
    });
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await first.release();
    await rm(first.path, { recursive: true, force: true });

    const second = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'b' });

    expect(second.path).not.toBe(first.path);
    expect(lastCheckout()).toMatchObject({ recycled: false });
    expect(await readCommitIndex(second.path)).toBe(0);
    expect(await registeredWorktrees(cacheDir, second.path)).toHaveLength(1);
    await second.release();
  });

  it('lets a job delivered again while its last checkout is being returned wait for it', async () => {
    const { repository, commits, cache } = await setUp({ worktreePoolSize: 1 });
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await dirty(first.path);

    const returning = first.release();
    const again = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await returning;

    expect(again.path).toBe(first.path);
    expect(await git(again.path, 'status', '--porcelain', '--ignored')).toBe('');
    await again.release();
  });

  it('refuses a second checkout for a job whose kept worktree is still out', async () => {
    const { repository, commits, cache } = await setUp({ worktreePoolSize: 1 });
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await first.release();
    const second = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'b' });

    const again = cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'b' });

    await expect(again).rejects.toBeInstanceOf(WorktreeInUseError);
    await second.release();
  });
});
