import { describe, expect, it } from 'vitest';
import { MAX_RESTORES_PER_SNAPSHOT, SnapshotPacing } from './snapshot-pacing.js';

/** Which of `restores` restores in a row are followed by a snapshot. */
function dueAmong(pacing: SnapshotPacing, restores: number): number[] {
  return Array.from({ length: restores }, (_, index) => index).filter(() => pacing.snapshotDue());
}

describe('SnapshotPacing', () => {
  it('follows every restore with a snapshot until a snapshotted worktree comes back changed', () => {
    const pacing = new SnapshotPacing();

    expect(dueAmong(pacing, 3)).toEqual([0, 1, 2]);
  });

  it('snapshots ever less often while worktrees come back changed, down to its limit', () => {
    const pacing = new SnapshotPacing();

    pacing.learn(false);
    const afterOne = dueAmong(pacing, 4);
    for (let change = 0; change < 10; change += 1) pacing.learn(false);
    const afterMany = dueAmong(pacing, 2 * MAX_RESTORES_PER_SNAPSHOT);

    expect(afterOne).toEqual([1, 3]);
    expect(afterMany).toHaveLength(2);
  });

  it('snapshots every restore again once a worktree comes back untouched', () => {
    const pacing = new SnapshotPacing();
    for (let change = 0; change < 5; change += 1) pacing.learn(false);

    pacing.learn(true);

    expect(dueAmong(pacing, 3)).toEqual([0, 1, 2]);
  });
});
