import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Trees with more entries get no snapshot, and are restored by git: a check costs some 5
 * microseconds per entry (of a thread beside the event loop), and the snapshot's paths stay
 * in memory while the worktree is kept.
 */
export const SNAPSHOT_MAX_ENTRIES = 5_000;

/**
 * How recent a change may be for a snapshot to be trusted, on file systems with fine
 * timestamps: above the coarse clock's tick (10 ms at most), which the kernel stamps changes
 * with. A snapshot is taken at least this long after the change it must see past.
 */
export const FINE_RACY_WINDOW_MS = 50;

/** The same, on file systems that keep whole seconds only. */
const COARSE_RACY_WINDOW_MS = 2_000;

/** The fields recorded per entry: inode, mode, size, modification and change times. */
const FIELDS = 5;

/** Options of {@link takeWorktreeSnapshot}. */
export interface WorktreeSnapshotOptions {
  /** Default {@link SNAPSHOT_MAX_ENTRIES}. */
  readonly maxEntries?: number;
  /** The wall clock in milliseconds (the clock file times are stamped with); for tests. */
  readonly now?: () => number;
}

/**
 * The metadata of every entry of a worktree and of its git administrative folder (its `HEAD`
 * and index), taken once git has made the worktree pristine (and confirmed by git after it was
 * taken), so that the release of the next job given it can tell that the job changed nothing
 * and skip restoring it: a restore starts three programs (a
 * shell and two git commands), tens of milliseconds of the machine's CPU, where a check is one
 * `lstat` per entry.
 *
 * The check is git's own, by metadata: any write to an entry moves its change time (`ctime`,
 * which no user can set), and a file added, removed or renamed anywhere moves its folder's
 * times. The change time has the kernel's coarse clock's resolution, so a change in the same
 * tick as the last one could leave it as it was: a snapshot in which an entry changed within
 * {@link FINE_RACY_WINDOW_MS} (two seconds for an entry with whole-second times) is not
 * taken at all, and the worktree is then restored as before. Plain data, so that it can be
 * taken and checked on another thread ({@link WorktreeInspector}).
 */
export interface WorktreeSnapshot {
  /** Every entry, folders first, the worktree and its administrative folder included. */
  readonly paths: readonly string[];
  /** {@link FIELDS} numbers per entry of `paths`. */
  readonly stats: Float64Array;
}

/**
 * Snapshots the worktree at `worktree`; `undefined` when it cannot vouch for a later check:
 * something in it changed too recently, it has more than `maxEntries` entries, or it could
 * not be read.
 */
export function takeWorktreeSnapshot(
  worktree: string,
  options: WorktreeSnapshotOptions = {},
): WorktreeSnapshot | undefined {
  const maxEntries = options.maxEntries ?? SNAPSHOT_MAX_ENTRIES;
  const takenAt = (options.now ?? Date.now)();
  const paths: string[] = [];
  const values: number[] = [];
  /**
   * Records `path`'s metadata; `undefined` once there are too many entries, or when the entry
   * changed too recently to tell that change from the next one.
   */
  const record = (path: string): Stats | undefined => {
    if (paths.length >= maxEntries) return undefined;
    const stats = lstatSync(path);
    // Whole seconds: a file system (or a mount) that keeps no finer times.
    const coarse = stats.ctimeMs % 1000 === 0 && stats.mtimeMs % 1000 === 0;
    const racyWindowMs = coarse ? COARSE_RACY_WINDOW_MS : FINE_RACY_WINDOW_MS;
    if (stats.ctimeMs >= takenAt - racyWindowMs) return undefined;
    paths.push(path);
    values.push(stats.ino, stats.mode, stats.size, stats.mtimeMs, stats.ctimeMs);
    return stats;
  };
  try {
    const top = resolve(worktree);
    const admin = administrativeFolders(top);
    if (admin === undefined) return undefined;
    const folders: string[] = [];
    for (const root of [top, ...admin]) {
      if (record(root) === undefined) return undefined;
      folders.push(root);
    }
    for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        const stats = record(path);
        if (stats === undefined) return undefined;
        // Never into a link to a folder: its target is not the worktree's.
        if (stats.isDirectory()) folders.push(path);
      }
    }
  } catch {
    return undefined;
  }
  return { paths, stats: Float64Array.from(values) };
}

/** Whether every entry is still there with the same metadata (so nothing was added either). */
export function isWorktreeUnchanged(snapshot: WorktreeSnapshot): boolean {
  const { paths, stats: recorded } = snapshot;
  if (recorded.length !== paths.length * FIELDS) return false;
  try {
    for (let entry = 0; entry < paths.length; entry += 1) {
      const stats = lstatSync(paths[entry]!, { throwIfNoEntry: false });
      if (stats === undefined) return false;
      const offset = entry * FIELDS;
      if (
        stats.ino !== recorded[offset] ||
        stats.mode !== recorded[offset + 1] ||
        stats.size !== recorded[offset + 2] ||
        stats.mtimeMs !== recorded[offset + 3] ||
        stats.ctimeMs !== recorded[offset + 4]
      ) {
        return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The files of an operation in progress in a worktree's administrative folder: a merge,
 * cherry-pick, revert, rebase or bisect, which a restore would end. Such a tree is not
 * pristine, whatever its files.
 */
const OPERATIONS_IN_PROGRESS = [
  'MERGE_HEAD',
  'CHERRY_PICK_HEAD',
  'REVERT_HEAD',
  'BISECT_LOG',
  'rebase-merge',
  'rebase-apply',
];

/**
 * A linked worktree's administrative folder (its `HEAD`, index and logs), named by its `.git`
 * file; none for a worktree whose `.git` is a folder (walked with the rest); `undefined` when
 * the `.git` file names no folder, or an operation is in progress there.
 */
function administrativeFolders(worktree: string): string[] | undefined {
  const dotGit = join(worktree, '.git');
  const folder = lstatSync(dotGit).isDirectory()
    ? dotGit
    : /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
  if (folder === undefined) return undefined;
  const admin = resolve(worktree, folder);
  if (OPERATIONS_IN_PROGRESS.some((name) => existsSync(join(admin, name)))) return undefined;
  return admin === dotGit ? [] : [admin];
}
