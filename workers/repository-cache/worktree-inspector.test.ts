import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestRepository, git } from '../../test/support/git-repository.js';
import { useCleanups } from '../../test/support/repository-cache-fixtures.js';
import { WorktreeInspector } from './worktree-inspector.js';
import { MAX_HELD_SNAPSHOTS } from './worktree-inspector-thread.js';

const cleanups = useCleanups();

/** A linked worktree of a small repository, left past the snapshot's racy window. */
async function settledWorktree(): Promise<string> {
  const repository = await createTestRepository({ 'README.md': 'readme\n', 'api/main.go': 'go\n' });
  cleanups.push(() => repository.remove());
  await repository.commit('first');
  const worktree = `${repository.path}-worktree`;
  await git(repository.path, 'worktree', 'add', '--quiet', '--detach', worktree);
  cleanups.push(() => rm(worktree, { recursive: true, force: true }));
  await delay(120);
  return worktree;
}

describe('WorktreeInspector', () => {
  it('takes and checks snapshots on its thread', async () => {
    const inspector = new WorktreeInspector();
    cleanups.push(() => inspector.close());
    const worktree = await settledWorktree();

    const snapshot = await inspector.take(worktree);
    const before = snapshot !== undefined && (await inspector.isUnchanged(snapshot));
    await writeFile(join(worktree, 'README.md'), 'changed\n');
    const after = snapshot !== undefined && (await inspector.isUnchanged(snapshot));

    // The worktree, its two files and its folder, and its administrative files.
    expect(snapshot?.entries).toBeGreaterThan(4);
    expect(before).toBe(true);
    expect(after).toBe(false);
  });

  it('answers "changed" for a snapshot it was told to release', async () => {
    const inspector = new WorktreeInspector();
    cleanups.push(() => inspector.close());
    const worktree = await settledWorktree();
    const kept = await inspector.take(worktree);
    const released = await inspector.take(worktree);

    inspector.release(released);

    expect(kept !== undefined && (await inspector.isUnchanged(kept))).toBe(true);
    expect(released !== undefined && (await inspector.isUnchanged(released))).toBe(false);
  });

  it(`holds at most ${MAX_HELD_SNAPSHOTS} snapshots, dropping the oldest`, async () => {
    const inspector = new WorktreeInspector();
    cleanups.push(() => inspector.close());
    const worktree = await settledWorktree();
    const oldest = await inspector.take(worktree);
    const newer = await Promise.all(
      Array.from({ length: MAX_HELD_SNAPSHOTS }, () => inspector.take(worktree)),
    );
    const newest = newer.at(-1);

    expect(oldest !== undefined && (await inspector.isUnchanged(oldest))).toBe(false);
    expect(newest !== undefined && (await inspector.isUnchanged(newest))).toBe(true);
  });

  it('answers on the safe side once closed: no snapshot, and changed', async () => {
    const inspector = new WorktreeInspector();
    const worktree = await settledWorktree();
    const snapshot = await inspector.take(worktree);

    await inspector.close();

    expect(snapshot).toBeDefined();
    expect(await inspector.take(worktree)).toBeUndefined();
    expect(snapshot !== undefined && (await inspector.isUnchanged(snapshot))).toBe(false);
  });

  it('answers on the safe side when its thread takes too long', async () => {
    const inspector = new WorktreeInspector({ timeoutMs: 1 });
    cleanups.push(() => inspector.close());
    const worktree = await settledWorktree();

    // Starting the thread alone takes longer than a millisecond.
    const timedOut = await inspector.take(worktree);

    expect(timedOut).toBeUndefined();
  });
});
