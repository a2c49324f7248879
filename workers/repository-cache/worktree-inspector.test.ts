import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestRepository, git } from '../../test/support/git-repository.js';
import { useCleanups } from '../../test/support/repository-cache-fixtures.js';
import { WorktreeInspector } from './worktree-inspector.js';

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

    expect(snapshot?.paths).toContain(join(worktree, 'README.md'));
    expect(before).toBe(true);
    expect(after).toBe(false);
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
