import { parentPort } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import {
  isWorktreeUnchanged,
  takeWorktreeSnapshot,
  type WorktreeSnapshot,
} from './worktree-snapshot.js';

/**
 * Snapshots the thread holds at most; past it, the oldest is dropped, and a check of it answers
 * "changed" (its worktree is then restored by git). A cache keeps a pool of worktrees per
 * repository, so only a node keeping full pools of many repositories at once reaches it; it
 * bounds the memory of snapshots, whose release may also have been missed.
 */
export const MAX_HELD_SNAPSHOTS = 1_024;

/**
 * What `WorktreeInspector` asks its thread: to snapshot a worktree and hold the snapshot under
 * `snapshotId`, or to check the worktree of a snapshot it holds. Snapshots stay on the thread
 * (a few hundred paths each), so that only their ids cross it.
 */
export type InspectorQuestion =
  | { readonly op: 'take'; readonly worktree: string; readonly snapshotId: number }
  | { readonly op: 'check'; readonly snapshotId: number };

/** A question as it travels, with the id its answer carries back. */
export type InspectorRequest = InspectorQuestion & { readonly id: number };

/** Told, never answered: the snapshot is no longer needed. */
export interface InspectorRelease {
  readonly op: 'release';
  readonly snapshotId: number;
}

/** The thread's answer to the request with the same `id`. */
export type InspectorAnswer =
  | { readonly id: number; readonly op: 'take'; readonly entries: number | undefined }
  | { readonly id: number; readonly op: 'check'; readonly unchanged: boolean };

/** The thread behind `WorktreeInspector`: walks and checks worktrees off the event loop. */
function serve(port: NonNullable<typeof parentPort>): void {
  const held = new Map<number, WorktreeSnapshot>();
  port.on('message', (message: InspectorRequest | InspectorRelease) => {
    switch (message.op) {
      case 'take': {
        const snapshot = takeWorktreeSnapshot(message.worktree);
        if (snapshot !== undefined) hold(held, message.snapshotId, snapshot);
        port.postMessage({
          id: message.id,
          op: 'take',
          entries: snapshot?.paths.length,
        } satisfies InspectorAnswer);
        return;
      }
      case 'check': {
        const snapshot = held.get(message.snapshotId);
        port.postMessage({
          id: message.id,
          op: 'check',
          unchanged: snapshot !== undefined && isWorktreeUnchanged(snapshot),
        } satisfies InspectorAnswer);
        return;
      }
      case 'release':
        held.delete(message.snapshotId);
        return;
      default:
        assertNever(message, 'inspector message');
    }
  });
}

function hold(held: Map<number, WorktreeSnapshot>, id: number, snapshot: WorktreeSnapshot): void {
  held.set(id, snapshot);
  if (held.size <= MAX_HELD_SNAPSHOTS) return;
  const oldest = held.keys().next();
  if (oldest.done !== true) held.delete(oldest.value);
}

if (parentPort !== null) serve(parentPort);
