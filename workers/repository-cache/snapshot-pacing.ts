/**
 * At most one restore in this many is followed by a snapshot while jobs keep changing their
 * worktrees (builds writing outputs): a snapshot costs two git commands, wasted on a tree the
 * next job changes anyway.
 */
export const MAX_RESTORES_PER_SNAPSHOT = 16;

/**
 * Which restores of kept worktrees are followed by a snapshot: every one while jobs leave
 * their worktrees untouched; ever fewer, down to one in {@link MAX_RESTORES_PER_SNAPSHOT},
 * while the worktrees snapshots were taken of keep coming back changed.
 */
export class SnapshotPacing {
  #restoresPerSnapshot = 1;
  #restoresSinceSnapshot = 0;

  /** Counts a restore; whether to follow it with a snapshot. */
  snapshotDue(): boolean {
    this.#restoresSinceSnapshot += 1;
    if (this.#restoresSinceSnapshot < this.#restoresPerSnapshot) return false;
    this.#restoresSinceSnapshot = 0;
    return true;
  }

  /** Learns whether the job given a snapshotted worktree left it untouched. */
  learn(untouched: boolean): void {
    this.#restoresPerSnapshot = untouched
      ? 1
      : Math.min(MAX_RESTORES_PER_SNAPSHOT, this.#restoresPerSnapshot * 2);
  }
}
