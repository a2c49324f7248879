import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { siblingModuleUrl, startModuleThread } from '../../adapters/child-process/fork-module.js';
import type {
  InspectorAnswer,
  InspectorQuestion,
  InspectorRelease,
  InspectorRequest,
} from './worktree-inspector-thread.js';

/**
 * A `WorktreeSnapshot` the inspector's thread holds: its id there, and how many entries it
 * has. Ids are never reused, so a snapshot a thread that died held (or one it dropped) is
 * never taken for another: its check answers "changed".
 */
export interface HeldSnapshot {
  readonly id: number;
  readonly entries: number;
}

/** Options of {@link WorktreeInspector}. */
export interface WorktreeInspectorOptions {
  /**
   * How long a question may take before it gets the safe answer and the thread is stopped (a
   * file system that hangs, such as a dead network mount). Default 10 s.
   */
  readonly timeoutMs?: number;
}

/**
 * Takes and checks `WorktreeSnapshot`s on a thread of its own, started at the first question,
 * which keeps them ({@link HeldSnapshot}): a snapshot is an `lstat` per entry, some 5
 * microseconds each, which a worker releasing a wave of worktrees would otherwise spend on its
 * event loop while the next jobs wait to start, and its paths would cross the thread at every
 * check. Every failure answers on the safe side: no snapshot, or "changed" (the worktree is
 * then restored by git). The thread keeps the process alive only while it has questions to
 * answer, and is started again after it dies; after a question it could not answer in time,
 * none is asked again.
 */
export class WorktreeInspector {
  readonly #timeoutMs: number;
  #thread: Worker | undefined;
  #nextId = 1;
  #nextSnapshotId = 1;
  readonly #pending = new Map<number, (answer: InspectorAnswer | undefined) => void>();
  /** Closed, or a question went unanswered in time: every answer is the safe one from then on. */
  #closed = false;

  constructor(options: WorktreeInspectorOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * A snapshot of the worktree at `worktree`, when one can vouch for it (see
   * `takeWorktreeSnapshot`), held by the thread until {@link WorktreeInspector.release}d or
   * dropped (see `MAX_HELD_SNAPSHOTS`).
   */
  async take(worktree: string): Promise<HeldSnapshot | undefined> {
    const snapshotId = this.#nextSnapshotId;
    this.#nextSnapshotId += 1;
    const answer = await this.#ask({ op: 'take', worktree, snapshotId });
    if (answer?.op !== 'take' || answer.entries === undefined) return undefined;
    return { id: snapshotId, entries: answer.entries };
  }

  /** Whether the worktree of `snapshot` is still exactly as it was then. */
  async isUnchanged(snapshot: HeldSnapshot): Promise<boolean> {
    const answer = await this.#ask({ op: 'check', snapshotId: snapshot.id });
    return answer?.op === 'check' && answer.unchanged;
  }

  /** Lets the thread drop `snapshot`, which no later check will ask about. */
  release(snapshot: HeldSnapshot | undefined): void {
    if (snapshot === undefined || this.#thread === undefined) return;
    this.#thread.postMessage({ op: 'release', snapshotId: snapshot.id } satisfies InspectorRelease);
  }

  /**
   * Stops the thread; questions still open, and later ones, get the safe answer. Idempotent.
   * A thread stuck in a system call may not stop: it is not waited for past a second, and
   * never keeps the process alive.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const thread = this.#thread;
    this.#forget(thread);
    if (thread === undefined) return;
    await Promise.race([thread.terminate(), delay(1_000, undefined, { ref: false })]);
  }

  #ask(question: InspectorQuestion): Promise<InspectorAnswer | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const thread = this.#ensureThread();
    const id = this.#nextId;
    this.#nextId += 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // A file system that hangs (a dead mount) would hang the next thread as well: the
        // stuck one is let go, and git restores every worktree from now on.
        this.#closed = true;
        this.#forget(thread);
        void thread.terminate();
      }, this.#timeoutMs);
      this.#pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      if (this.#pending.size === 1) thread.ref();
      thread.postMessage({ ...question, id } satisfies InspectorRequest);
    });
  }

  #ensureThread(): Worker {
    if (this.#thread !== undefined) return this.#thread;
    const thread = startModuleThread(
      siblingModuleUrl(import.meta.url, 'worktree-inspector-thread'),
    );
    thread.unref();
    thread.on('message', (answer: InspectorAnswer) => {
      const resolve = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) thread.unref();
      resolve?.(answer);
    });
    // A thread that failed is forgotten with its questions; the next question starts another.
    thread.on('error', () => this.#forget(thread));
    thread.on('messageerror', () => {
      this.#forget(thread);
      void thread.terminate();
    });
    thread.on('exit', () => this.#forget(thread));
    this.#thread = thread;
    return thread;
  }

  /** Answers every open question of `thread` on the safe side, and lets it go. */
  #forget(thread: Worker | undefined): void {
    if (thread === undefined || this.#thread !== thread) return;
    thread.unref();
    this.#thread = undefined;
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const resolve of waiting) resolve(undefined);
  }
}
