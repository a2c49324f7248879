import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestRepository, git } from '../../test/support/git-repository.js';
import { useCleanups } from '../../test/support/repository-cache-fixtures.js';
import {
  isWorktreeUnchanged,
  takeWorktreeSnapshot,
  type WorktreeSnapshot,
} from './worktree-snapshot.js';

const cleanups = useCleanups();

/** Longer than the racy window: what a snapshot can vouch for has to be older than that. */
const SETTLED_MS = 120;

/**
 * A linked worktree (a `.git` file naming its administrative folder, as the cache makes them)
 * of a repository with a few tracked files, left to settle; its first and second commits.
 */
async function settledWorktree() {
  const repository = await createTestRepository({
    'api/main.go': 'package main\n',
    'api/.forge/project.cue': 'name: "api"\n',
    'README.md': 'readme\n',
    '.gitignore': 'dist/\n',
  });
  cleanups.push(() => repository.remove());
  const first = await repository.commit('first');
  await repository.write({ 'README.md': 'second readme\n' });
  const second = await repository.commit('second');
  const worktree = `${repository.path}-worktree`;
  await git(repository.path, 'worktree', 'add', '--quiet', '--detach', worktree, first);
  cleanups.push(() => rm(worktree, { recursive: true, force: true }));
  await delay(SETTLED_MS);
  return { worktree, first, second };
}

function takeOrFail(worktree: string): WorktreeSnapshot {
  const snapshot = takeWorktreeSnapshot(worktree);
  if (snapshot === undefined) throw new Error(`no snapshot of ${worktree}`);
  return snapshot;
}

describe('takeWorktreeSnapshot and isWorktreeUnchanged', () => {
  it('finds a worktree nobody touched unchanged, its git folder included', async () => {
    const { worktree } = await settledWorktree();

    const snapshot = takeOrFail(worktree);
    await readFile(join(worktree, 'README.md'));

    expect(isWorktreeUnchanged(snapshot)).toBe(true);
    // The worktree's 7 entries and its own folder, and the administrative folder's.
    expect(snapshot.paths.length).toBeGreaterThan(8);
  });

  it.each([
    [
      'a tracked file rewritten with content of the same size',
      (worktree: string) => writeFile(join(worktree, 'README.md'), 'README\n'),
    ],
    [
      'a build output in a new ignored folder',
      async (worktree: string) => {
        await mkdir(join(worktree, 'api', 'dist', 'bin'), { recursive: true });
        await writeFile(join(worktree, 'api', 'dist', 'bin', 'api'), 'binary');
      },
    ],
    ['a tracked file deleted', (worktree: string) => rm(join(worktree, 'api', 'main.go'))],
    ['a file made executable', (worktree: string) => chmod(join(worktree, 'README.md'), 0o755)],
  ])('sees %s', async (_change, change) => {
    const { worktree } = await settledWorktree();
    const snapshot = takeOrFail(worktree);

    await change(worktree);

    expect(isWorktreeUnchanged(snapshot)).toBe(false);
  });

  it('sees HEAD moved to another commit, and a commit made in the worktree', async () => {
    const { worktree, second } = await settledWorktree();
    const beforeCheckout = takeOrFail(worktree);
    await git(worktree, 'checkout', '--quiet', '--detach', second);
    await delay(SETTLED_MS);
    const beforeCommit = takeOrFail(worktree);

    await git(worktree, 'commit', '--quiet', '--allow-empty', '-m', 'made by a step');

    expect(isWorktreeUnchanged(beforeCheckout)).toBe(false);
    expect(isWorktreeUnchanged(beforeCommit)).toBe(false);
  });

  it('takes none of a worktree in the middle of a merge', async () => {
    const { worktree, second } = await settledWorktree();
    const admin = await git(worktree, 'rev-parse', '--absolute-git-dir');
    await writeFile(join(admin, 'MERGE_HEAD'), `${second}\n`);
    await delay(SETTLED_MS);

    expect(takeWorktreeSnapshot(worktree)).toBeUndefined();
  });

  it('takes none of a worktree changed too recently to vouch for', async () => {
    const { worktree } = await settledWorktree();
    await writeFile(join(worktree, 'README.md'), 'just now\n');

    expect(takeWorktreeSnapshot(worktree)).toBeUndefined();
  });

  it('takes none of a tree with more entries than allowed, or of a missing one', async () => {
    const { worktree } = await settledWorktree();

    expect(takeWorktreeSnapshot(worktree, { maxEntries: 3 })).toBeUndefined();
    expect(takeWorktreeSnapshot(join(worktree, 'missing'))).toBeUndefined();
  });

  it('finds a deleted worktree changed', async () => {
    const { worktree } = await settledWorktree();
    const snapshot = takeOrFail(worktree);

    await rm(worktree, { recursive: true, force: true });

    expect(isWorktreeUnchanged(snapshot)).toBe(false);
  });
});
