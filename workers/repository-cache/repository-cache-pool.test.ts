import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from '../../test/support/git-repository.js';
import {
  createNumberedRepository,
  createTempFolder,
  filesOf,
  readCommitIndex,
  recordEvents,
  registeredWorktrees,
  useCleanups,
} from '../../test/support/repository-cache-fixtures.js';
import { RepositoryCache } from './index.js';

const cleanups = useCleanups();

/** A cache whose releases go straight to the shared pool (it keeps none for itself). */
async function setUp(worktreePoolSize: number) {
  const { repository, commits } = await createNumberedRepository(3);
  cleanups.push(() => repository.remove());
  const folder = await createTempFolder();
  cleanups.push(() => folder.remove());
  const recorder = recordEvents();
  const cache = await RepositoryCache.open({
    cacheDir: folder.path,
    worktreePoolSize,
    keptWorktreeIdleMs: 0,
    onEvent: recorder.onEvent,
  });
  cleanups.push(() => cache.close());
  return { repository, commits, cacheDir: folder.path, cache, recorder };
}

describe('RepositoryCache shared worktree pool', () => {
  it('reuses a parked worktree, leaving exactly the new commit’s files', async () => {
    const { repository, commits, cacheDir, cache, recorder } = await setUp(1);
    const first = await cache.checkout({
      url: repository.path,
      commit: commits[0]!,
      jobId: 'run-1/a',
    });
    await writeFile(join(first.path, 'index.txt'), 'tampered\n');
    await mkdir(join(first.path, 'dist'));
    await writeFile(join(first.path, 'dist', 'output.bin'), 'build output');
    await first.release();
    const parked = await registeredWorktrees(cacheDir, first.path);

    const second = await cache.checkout({
      url: repository.path,
      commit: commits[2]!,
      jobId: 'run-2/b',
    });

    expect(parked).toHaveLength(1);
    expect(parked[0]).toContain('locked forge-repository-cache parked');
    await expect(access(first.path)).rejects.toThrow();
    expect(
      recorder.events.filter((event) => event.type === 'checkout').map((event) => event.recycled),
    ).toEqual([false, true]);
    expect(await readCommitIndex(second.path)).toBe(2);
    const tracked = (await git(repository.path, 'ls-tree', '-r', '--name-only', commits[2]!)).split(
      '\n',
    );
    expect(await filesOf(second.path)).toEqual(tracked.sort());
    expect(await git(second.path, 'status', '--porcelain', '--ignored')).toBe('');
    await second.release();
  });

  it('hands out a worktree parked at the same commit as it is, restored to exactly that commit', async () => {
    const { repository, commits, cacheDir, cache, recorder } = await setUp(1);
    await writeFile(join(repository.path, '.gitignore'), 'dist/\n');
    const commit = await repository.commit('ignore dist');
    const first = await cache.checkout({ url: repository.path, commit, jobId: 'run-1/a' });
    await writeFile(join(first.path, 'index.txt'), 'tampered\n');
    await rm(join(first.path, `file-0.txt`));
    await mkdir(join(first.path, 'dist'));
    await writeFile(join(first.path, 'dist', 'output.bin'), 'build output');
    await writeFile(join(first.path, 'notes.txt'), 'untracked');
    await first.release();
    const parked = await registeredWorktrees(cacheDir, first.path);

    const second = await cache.checkout({ url: repository.path, commit, jobId: 'run-2/b' });

    expect(parked[0]).toContain('locked forge-repository-cache parked pristine');
    expect(recorder.events.filter((event) => event.type === 'checkout').at(-1)).toMatchObject({
      recycled: true,
      alreadyAtCommit: true,
    });
    expect(await readCommitIndex(second.path)).toBe(commits.length - 1);
    const tracked = (await git(repository.path, 'ls-tree', '-r', '--name-only', commit)).split(
      '\n',
    );
    expect(await filesOf(second.path)).toEqual(tracked.sort());
    expect(await git(second.path, 'status', '--porcelain', '--ignored')).toBe('');
    expect(await git(second.path, 'rev-parse', 'HEAD')).toBe(commit);
    await second.release();
  });

  it('rewrites a worktree parked by an older release (cleaned only) even at the same commit', async () => {
    const { repository, commits, cacheDir, cache, recorder } = await setUp(1);
    const first = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'a' });
    await first.release();
    const [parkedPath] = (await readdir(dirname(first.path))).map((name) =>
      join(dirname(first.path), name),
    );
    const adminDir = (await readFile(join(parkedPath!, '.git'), 'utf8')).replace('gitdir: ', '');
    await writeFile(join(adminDir.trim(), 'locked'), 'forge-repository-cache parked');
    await writeFile(join(parkedPath!, 'index.txt'), 'left modified by an older release\n');

    const second = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'b' });

    expect(recorder.events.filter((event) => event.type === 'checkout').at(-1)).toMatchObject({
      recycled: true,
      alreadyAtCommit: false,
    });
    expect(await readCommitIndex(second.path)).toBe(1);
    expect(await git(second.path, 'status', '--porcelain', '--ignored')).toBe('');
    expect((await registeredWorktrees(cacheDir, second.path)).length).toBe(1);
    await second.release();
  });

  it('parks at most the pool size and removes the rest; parked worktrees do not block eviction', async () => {
    const { repository, commits, cacheDir, cache } = await setUp(1);
    const checkouts = await Promise.all(
      commits.map((commit, index) =>
        cache.checkout({ url: repository.path, commit, jobId: `job-${index}` }),
      ),
    );

    await Promise.all(checkouts.map((checkout) => checkout.release()));
    const left = await registeredWorktrees(cacheDir, checkouts[0]!.path);
    const evicting = await RepositoryCache.open({ cacheDir, maxSizeBytes: 1 });
    cleanups.push(() => evicting.close());
    const result = await evicting.evict();

    expect(left).toHaveLength(1);
    expect(left[0]).toContain('parked');
    expect(result.evicted).toHaveLength(1);
    expect(await readdir(join(cacheDir, 'repositories'))).toEqual([]);
  });

  it('falls back to a fresh worktree when the parked one was damaged', async () => {
    const { repository, commits, cacheDir, cache, recorder } = await setUp(1);
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await first.release();
    const worktreesDir = dirname(first.path);
    for (const parked of await readdir(worktreesDir)) {
      await rm(join(worktreesDir, parked), { recursive: true, force: true });
    }

    const second = await cache.checkout({ url: repository.path, commit: commits[1]!, jobId: 'b' });

    expect(await readCommitIndex(second.path)).toBe(1);
    expect(recorder.events.filter((event) => event.type === 'checkout').at(-1)).toMatchObject({
      recycled: false,
    });
    expect(await registeredWorktrees(cacheDir, second.path)).toHaveLength(1);
    await second.release();
  });
});
