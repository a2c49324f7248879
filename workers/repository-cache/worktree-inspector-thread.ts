import { parentPort } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import {
  isWorktreeUnchanged,
  takeWorktreeSnapshot,
  type WorktreeSnapshot,
} from './worktree-snapshot.js';

/** What `WorktreeInspector` asks its thread: a snapshot of a worktree, or a check of one. */
export type InspectorQuestion =
  | { readonly op: 'take'; readonly worktree: string }
  | { readonly op: 'check'; readonly snapshot: WorktreeSnapshot };

/** A question as it travels, with the id its answer carries back. */
export type InspectorRequest = InspectorQuestion & { readonly id: number };

/** The thread's answer to the request with the same `id`. */
export type InspectorAnswer =
  | { readonly id: number; readonly op: 'take'; readonly snapshot: WorktreeSnapshot | undefined }
  | { readonly id: number; readonly op: 'check'; readonly unchanged: boolean };

/** The thread behind `WorktreeInspector`: walks and checks worktrees off the event loop. */
function serve(port: NonNullable<typeof parentPort>): void {
  port.on('message', (request: InspectorRequest) => {
    switch (request.op) {
      case 'take':
        port.postMessage({
          id: request.id,
          op: 'take',
          snapshot: takeWorktreeSnapshot(request.worktree),
        } satisfies InspectorAnswer);
        return;
      case 'check':
        port.postMessage({
          id: request.id,
          op: 'check',
          unchanged: isWorktreeUnchanged(request.snapshot),
        } satisfies InspectorAnswer);
        return;
      default:
        assertNever(request, 'inspector request');
    }
  });
}

if (parentPort !== null) serve(parentPort);
