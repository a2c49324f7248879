import { access, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestRepository, git } from '../../test/support/git-repository.js';
import {
  appendNumberedCommit,
  createNumberedRepository,
  createTempFolder,
  readCommitIndex,
  recordEvents,
  useCleanups,
} from '../../test/support/repository-cache-fixtures.js';
import {
  CheckoutAbortedError,
  CheckoutRequestError,
  CommitNotFoundError,
  RepositoryCache,
  RepositoryCacheClosedError,
  RepositoryCacheOptionsError,
  RepositoryCloneError,
  WorktreeInUseError,
  worktreeFolderName,
} from './index.js';

const cleanups = useCleanups();

async function openCache(onEvent?: ReturnType<typeof recordEvents>['onEvent']) {
  const folder = await createTempFolder();
  cleanups.push(() => folder.remove());
  const cache = await RepositoryCache.open({ cacheDir: folder.path, onEvent });
  cleanups.push(() => cache.close());
  return { cache, cacheDir: folder.path };
}

async function numberedRepository(count: number) {
  const created = await createNumberedRepository(count);
  cleanups.push(() => created.repository.remove());
  return created;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('RepositoryCache checkout', () => {
  it('clones on first use and reuses the clone afterwards', async () => {
    const { repository, commits } = await numberedRepository(3);
    const recorder = recordEvents();
    const { cache } = await openCache(recorder.onEvent);
    const url = pathToFileURL(repository.path).href;

    const first = await cache.checkout({ url, commit: commits[0]!, jobId: 'run-1/discovery' });
    const second = await cache.checkout({ url, commit: commits[2]!, jobId: 'run-2/discovery' });

    expect(await readCommitIndex(first.path)).toBe(0);
    expect(await readCommitIndex(second.path)).toBe(2);
    expect(first.commit).toBe(commits[0]);
    expect(cache.stats()).toMatchObject({ clones: 1, fetches: 0, hits: 1, checkouts: 2 });
    expect(recorder.count('clone')).toBe(1);
    await first.release();
    await second.release();
  });

  it('fetches a commit pushed after the first checkout, and only then', async () => {
    const { repository, commits } = await numberedRepository(1);
    const { cache } = await openCache();
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'a' });
    await first.release();
    const pushed = await appendNumberedCommit(repository, 1);

    const second = await cache.checkout({ url: repository.path, commit: pushed, jobId: 'b' });
    const third = await cache.checkout({ url: repository.path, commit: pushed, jobId: 'c' });

    expect(await readCommitIndex(second.path)).toBe(1);
    expect(await readCommitIndex(third.path)).toBe(1);
    expect(cache.stats()).toMatchObject({ clones: 1, fetches: 1, hits: 1 });
    await second.release();
    await third.release();
  });

  it('checks out by branch (always its current tip) and by tag', async () => {
    const { repository, commits } = await numberedRepository(2);
    await git(repository.path, 'tag', '-a', '-m', 'release', 'v1.0.0', commits[0]!);
    await git(repository.path, 'branch', 'feature/x', commits[0]!);
    const { cache } = await openCache();

    const byTag = await cache.checkout({ url: repository.path, commit: 'v1.0.0', jobId: 'tag' });
    const byBranch = await cache.checkout({
      url: repository.path,
      commit: 'main',
      jobId: 'main-1',
    });
    const moved = await appendNumberedCommit(repository, 2);
    const byMovedBranch = await cache.checkout({
      url: repository.path,
      commit: 'main',
      jobId: 'main-2',
    });

    expect(byTag.commit).toBe(commits[0]);
    expect(await readCommitIndex(byTag.path)).toBe(0);
    expect(byBranch.commit).toBe(commits[1]);
    expect(byMovedBranch.commit).toBe(moved);
    expect(await readCommitIndex(byMovedBranch.path)).toBe(2);
    for (const checkout of [byTag, byBranch, byMovedBranch]) await checkout.release();
  });

  it('reports an unknown commit, branch or tag as CommitNotFoundError', async () => {
    const { repository, commits } = await numberedRepository(1);
    const { cache } = await openCache();
    await (
      await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'x' })
    ).release();
    const missingSha = 'f'.repeat(40);

    const missing = cache.checkout({ url: repository.path, commit: missingSha, jobId: 'y' });
    const missingBranch = cache.checkout({ url: repository.path, commit: 'no-such', jobId: 'z' });

    await Promise.all([
      expect(missing).rejects.toBeInstanceOf(CommitNotFoundError),
      expect(missingBranch).rejects.toThrow(/"no-such" not found/),
    ]);
    await expect(missing).rejects.toMatchObject({ retryable: false });
  });

  it('removes the worktree on release, idempotently, leaving git clean', async () => {
    const { repository, commits } = await numberedRepository(1);
    const { cache, cacheDir } = await openCache();
    const checkout = await cache.checkout({
      url: repository.path,
      commit: commits[0]!,
      jobId: 'run-7/task/test/api-server',
    });
    const bareDir = join(
      cacheDir,
      'repositories',
      basename(dirname(checkout.path)),
      'repository.git',
    );

    await checkout.release();
    await checkout.release();

    expect(await exists(checkout.path)).toBe(false);
    const worktrees = await git(bareDir, 'worktree', 'list', '--porcelain');
    expect(worktrees.split('\n').filter((line) => line.startsWith('worktree '))).toHaveLength(1);
  });

  it('maps job ids with slashes to distinct safe folder names', async () => {
    const { repository, commits } = await numberedRepository(1);
    const { cache } = await openCache();

    const slashed = await cache.checkout({
      url: repository.path,
      commit: commits[0]!,
      jobId: 'r/task/a',
    });
    const dashed = await cache.checkout({
      url: repository.path,
      commit: commits[0]!,
      jobId: 'r-task-a',
    });

    expect(basename(slashed.path)).toMatch(
      new RegExp(`^${worktreeFolderName('r/task/a')}-[0-9a-f]{8}$`),
    );
    expect(basename(slashed.path)).toMatch(/^r-task-a-[0-9a-f]{12}-[0-9a-f]{8}$/);
    expect(slashed.path).not.toBe(dashed.path);
    await slashed.release();
    await dashed.release();
  });

  it('refuses a second live checkout for the same job id', async () => {
    const { repository, commits } = await numberedRepository(1);
    const { cache } = await openCache();
    const first = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'job' });

    const second = cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'job' });

    await expect(second).rejects.toBeInstanceOf(WorktreeInUseError);
    await first.release();
    const again = await cache.checkout({ url: repository.path, commit: commits[0]!, jobId: 'job' });
    await again.release();
  });

  it('rejects bad requests and options with the cache’s own errors', async () => {
    const { cache } = await openCache();

    const optionLike = cache.checkout({ url: '/tmp/x', commit: '--upload-pack=evil', jobId: 'j' });
    const noJob = cache.checkout({ url: '/tmp/x', commit: 'main', jobId: ' ' });
    const badOptions = RepositoryCache.open({ cacheDir: '/tmp/x', maxSizeBytes: -1 });
    const aborted = cache.checkout({
      url: '/tmp/x',
      commit: 'main',
      jobId: 'cancelled',
      signal: AbortSignal.abort(),
    });

    await expect(optionLike).rejects.toBeInstanceOf(CheckoutRequestError);
    await expect(noJob).rejects.toThrow(/bad jobId/);
    await expect(badOptions).rejects.toBeInstanceOf(RepositoryCacheOptionsError);
    await expect(badOptions).rejects.toThrow(/maxSizeBytes/);
    await expect(aborted).rejects.toBeInstanceOf(CheckoutAbortedError);
  });

  it('reports a repository that cannot be cloned with git’s stderr, not retryable', async () => {
    const missing = await createTempFolder('forge-missing-');
    await missing.remove();
    const { cache, cacheDir } = await openCache();

    const checkout = cache.checkout({ url: missing.path, commit: 'main', jobId: 'j' });

    await expect(checkout).rejects.toBeInstanceOf(RepositoryCloneError);
    await expect(checkout).rejects.toThrow(/does not exist|not appear to be a git repository/);
    await expect(checkout).rejects.toMatchObject({ retryable: false });
    expect(await cache.usage()).toEqual([]);
    expect(await readdir(join(cacheDir, 'repositories'))).toEqual([]);
  });

  it('stops checking out once closed and removes what was still checked out', async () => {
    const repository = await createTestRepository({ 'README.md': 'hello\n' });
    cleanups.push(() => repository.remove());
    const commit = await repository.commit();
    const { cache } = await openCache();
    const checkout = await cache.checkout({ url: repository.path, commit, jobId: 'j' });
    expect(await readFile(join(checkout.path, 'README.md'), 'utf8')).toBe('hello\n');

    await cache.close();

    expect(await exists(checkout.path)).toBe(false);
    await checkout.release();
    await expect(
      cache.checkout({ url: repository.path, commit, jobId: 'k' }),
    ).rejects.toBeInstanceOf(RepositoryCacheClosedError);
  });
});
