import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { git } from '../../test/support/git-repository.js';
import {
  checkoutThenCrash,
  createNumberedRepository,
  createTempFolder,
  readCommitIndex,
  recordEvents,
  useCleanups,
} from '../../test/support/repository-cache-fixtures.js';
import { RepositoryCache } from './index.js';

const LOCK_STALE_MS = 2000;
const cleanups = useCleanups();

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function tempFolder() {
  const folder = await createTempFolder();
  cleanups.push(() => folder.remove());
  return folder.path;
}

async function numberedRepository(count: number) {
  const created = await createNumberedRepository(count);
  cleanups.push(() => created.repository.remove());
  return created;
}

describe('RepositoryCache start-up recovery', () => {
  it(
    'removes the worktrees of a crashed process at start, and only those',
    { timeout: 60_000 },
    async () => {
      const { repository, commits } = await numberedRepository(2);
      const cacheDir = await tempFolder();
      const crashedPath = await checkoutThenCrash({
        cacheDir,
        url: repository.path,
        commit: commits[0]!,
        jobId: 'run-1/task/test/crashed',
        lockStaleMs: LOCK_STALE_MS,
      });
      const survivor = await RepositoryCache.open({ cacheDir, lockStaleMs: LOCK_STALE_MS });
      cleanups.push(() => survivor.close());
      const live = await survivor.checkout({
        url: repository.path,
        commit: commits[1]!,
        jobId: 'live',
      });
      const leftoverFolder = join(dirname(crashedPath), 'half-made-by-a-crash');
      await mkdir(leftoverFolder);
      await writeFile(join(leftoverFolder, 'file'), 'x');
      // proper-lockfile may date a fresh lease up to 1 s ahead; after that it goes stale.
      await sleep(LOCK_STALE_MS + 1500);
      const recorder = recordEvents();

      const restarted = await RepositoryCache.open({
        cacheDir,
        lockStaleMs: LOCK_STALE_MS,
        onEvent: recorder.onEvent,
      });
      cleanups.push(() => restarted.close());

      expect(await exists(crashedPath)).toBe(false);
      expect(await exists(leftoverFolder)).toBe(false);
      expect(await readCommitIndex(live.path)).toBe(1);
      expect(recorder.count('stale-worktree-removed')).toBe(2);
      const bareDir = join(
        cacheDir,
        'repositories',
        basename(dirname(crashedPath)),
        'repository.git',
      );
      const listed = await git(bareDir, 'worktree', 'list', '--porcelain');
      expect(listed).toContain(live.path);
      expect(listed).not.toContain(crashedPath);
      const again = await restarted.checkout({
        url: repository.path,
        commit: commits[0]!,
        jobId: 'run-1/task/test/crashed',
      });
      expect(await readCommitIndex(again.path)).toBe(0);
      await again.release();
      await live.release();
    },
  );
});

describe('RepositoryCache eviction', () => {
  async function threeRepositoriesOneActive(cacheDir: string) {
    const repositories = await Promise.all([1, 2, 3].map(() => numberedRepository(3)));
    const cache = await RepositoryCache.open({ cacheDir });
    cleanups.push(() => cache.close());
    const checkout = (index: number, jobId: string) => {
      const { repository, commits } = repositories[index]!;
      return cache.checkout({ url: repository.path, commit: commits[2]!, jobId });
    };
    await (await checkout(0, 'oldest')).release();
    await sleep(5);
    await (await checkout(1, 'middle')).release();
    await sleep(5);
    const active = await checkout(2, 'active');
    cleanups.unshift(() => active.release());
    const usage = await cache.usage();
    return { cache, active, usage };
  }

  it('evicts the least recently used repository first, just enough to fit', async () => {
    const cacheDir = await tempFolder();
    const { usage } = await threeRepositoriesOneActive(cacheDir);
    const [oldest, middle, newest] = usage;
    const total = usage.reduce((sum, entry) => sum + entry.bytes, 0);
    const recorder = recordEvents();
    const evicting = await RepositoryCache.open({
      cacheDir,
      maxSizeBytes: total - oldest!.bytes,
      onEvent: recorder.onEvent,
    });
    cleanups.push(() => evicting.close());

    const result = await evicting.evict();

    expect(result.evicted.map((entry) => entry.key)).toEqual([oldest!.key]);
    expect((await evicting.usage()).map((entry) => entry.key)).toEqual([middle!.key, newest!.key]);
    expect(recorder.events).toContainEqual(
      expect.objectContaining({ type: 'eviction', bytes: oldest!.bytes }),
    );
  });

  it('never evicts a repository with a live worktree, even far above the maximum', async () => {
    const cacheDir = await tempFolder();
    const { active, usage } = await threeRepositoriesOneActive(cacheDir);
    const evicting = await RepositoryCache.open({ cacheDir, maxSizeBytes: 1 });
    cleanups.push(() => evicting.close());

    const result = await evicting.evict();

    expect(result.evicted.map((entry) => entry.key)).toEqual([usage[0]!.key, usage[1]!.key]);
    expect(result.remainingBytes).toBeGreaterThan(1);
    expect((await evicting.usage()).map((entry) => entry.key)).toEqual([usage[2]!.key]);
    expect(await readCommitIndex(active.path)).toBe(2);
  });

  it('evicts in the background after a clone, sparing the repository just checked out', async () => {
    const cacheDir = await tempFolder();
    const [first, second] = await Promise.all([numberedRepository(1), numberedRepository(1)]);
    const recorder = recordEvents();
    const cache = await RepositoryCache.open({
      cacheDir,
      maxSizeBytes: 1,
      onEvent: recorder.onEvent,
    });
    cleanups.push(() => cache.close());
    await (
      await cache.checkout({ url: first.repository.path, commit: first.commits[0]!, jobId: 'a' })
    ).release();
    const evictedFirst = new Promise<void>((resolve) => {
      const poll = () => (recorder.count('eviction') > 0 ? resolve() : setTimeout(poll, 10));
      poll();
    });

    const current = await cache.checkout({
      url: second.repository.path,
      commit: second.commits[0]!,
      jobId: 'b',
    });
    await current.release();
    await evictedFirst;

    expect(recorder.count('eviction')).toBe(1);
    expect(await readdir(join(cacheDir, 'repositories'))).toEqual([
      basename(dirname(current.path)),
    ]);
  });
});
