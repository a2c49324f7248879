import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from '../../test/support/git-repository.js';
import {
  appendNumberedCommit,
  createNumberedRepository,
  createTempFolder,
  filesOf,
  readCommitIndex,
  useCleanups,
} from '../../test/support/repository-cache-fixtures.js';
import { RepositoryCache, type RepositoryCheckout } from './index.js';

const cleanups = useCleanups();

async function expectExactly(checkout: RepositoryCheckout, sourcePath: string, index: number) {
  const tracked = (await git(sourcePath, 'ls-tree', '-r', '--name-only', checkout.commit))
    .split('\n')
    .sort();
  expect(await readCommitIndex(checkout.path)).toBe(index);
  expect(await filesOf(checkout.path)).toEqual(tracked);
  expect(await git(checkout.path, 'status', '--porcelain')).toBe('');
  expect(await git(checkout.path, 'rev-parse', 'HEAD')).toBe(checkout.commit);
}

function bareDirOf(cacheDir: string, checkout: RepositoryCheckout): string {
  return join(cacheDir, 'repositories', basename(dirname(checkout.path)), 'repository.git');
}

async function expectCleanRepository(bareDir: string) {
  const worktrees = await git(bareDir, 'worktree', 'list', '--porcelain');
  expect(worktrees.split('\n').filter((line) => line.startsWith('worktree '))).toHaveLength(1);
  expect(await readdir(join(bareDir, 'worktrees')).catch(() => [])).toEqual([]);
  await git(bareDir, 'fsck', '--no-progress');
}

describe('RepositoryCache under concurrency', () => {
  it('checks out ten commits of one repository at once, each worktree exactly its commit', async () => {
    const { repository, commits } = await createNumberedRepository(10);
    cleanups.push(() => repository.remove());
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const cache = await RepositoryCache.open({ cacheDir: folder.path });
    cleanups.push(() => cache.close());

    const checkouts = await Promise.all(
      commits.map((commit, index) =>
        cache.checkout({
          url: repository.path,
          commit,
          jobId: `run-1/task/build/project-${index}`,
        }),
      ),
    );

    for (const [index, checkout] of checkouts.entries()) {
      await expectExactly(checkout, repository.path, index);
    }
    expect(new Set(checkouts.map((checkout) => checkout.path)).size).toBe(10);
    expect(cache.stats()).toMatchObject({ clones: 1, fetches: 0, hits: 9, checkouts: 10 });
    await Promise.all(checkouts.map((checkout) => checkout.release()));
    await expectCleanRepository(bareDirOf(folder.path, checkouts[0]!));
  });

  it('lets two caches (two processes) share a folder: parallel clone race, checkouts and fetches', async () => {
    const { repository, commits } = await createNumberedRepository(6);
    cleanups.push(() => repository.remove());
    const folder = await createTempFolder();
    cleanups.push(() => folder.remove());
    const [discovery, tasks] = await Promise.all([
      RepositoryCache.open({ cacheDir: folder.path }),
      RepositoryCache.open({ cacheDir: folder.path }),
    ]);
    cleanups.push(
      () => discovery.close(),
      () => tasks.close(),
    );
    const checkoutAll = (round: string, shas: readonly string[]) =>
      Promise.all(
        shas.flatMap((commit, index) =>
          [discovery, tasks].map((cache, which) =>
            cache
              .checkout({ url: repository.path, commit, jobId: `${round}/job-${index}-${which}` })
              .then((checkout) => ({ checkout, index })),
          ),
        ),
      );

    const firstRound = await checkoutAll('round-1', commits);
    const pushed = [
      await appendNumberedCommit(repository, 6),
      await appendNumberedCommit(repository, 7),
    ];
    const secondRound = await checkoutAll('round-2', pushed);

    for (const { checkout, index } of firstRound)
      await expectExactly(checkout, repository.path, index);
    for (const { checkout, index } of secondRound) {
      await expectExactly(checkout, repository.path, index + 6);
    }
    const stats = [discovery.stats(), tasks.stats()];
    expect(stats[0]!.clones + stats[1]!.clones).toBe(1);
    expect(stats[0]!.fetches + stats[1]!.fetches).toBe(1);
    const all = [...firstRound, ...secondRound].map(({ checkout }) => checkout);
    await Promise.all(all.map((checkout) => checkout.release()));
    await expectCleanRepository(bareDirOf(folder.path, all[0]!));
  });
});
