import type { Worker } from 'node:worker_threads';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { siblingModuleUrl, startModuleThread } from '../child-process/fork-module.js';
import type { BlobMetadata } from './blob-folder.js';
import type {
  BlobWriterAnswer,
  BlobWriterFailure,
  BlobWriterRequest,
  BlobWriterTask,
} from './blob-writer-thread.js';

interface PendingTask {
  readonly task: BlobWriterTask;
  readonly resolve: (fd: number | undefined) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Makes the embedded blob store's files (`BlobFolder.put`, `BlobFolder.openForAppend`) on a
 * thread of its own, started at the first task, one task at a time in the order asked. Each
 * task is a few blocking system calls: a temporary file created and written, a key folder
 * made, a rename. Most of their cost is the kernel finding free inodes, 0.4 to 3 ms a put on
 * this project's test machines, and it grows where many files were deleted in the last
 * minutes (ext4 without a journal passes over every recently freed inode). A worker making
 * them on its event loop stalled every step starting or ending meanwhile: a wave of steps
 * ending together makes dozens. Asynchronous file calls would cost a turn of that busy loop
 * each; the thread costs one message each way.
 *
 * Between tasks the thread makes spare files and folders ahead (`BlobFolder.refillSpare`), so
 * that a task creates none; {@link BlobWriter.close} deletes them. The thread keeps the process
 * alive only while it has tasks, and is started again after it dies (the tasks it had fail).
 */
export class BlobWriter {
  readonly #root: string;
  #thread: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, PendingTask>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Settles when the last pending task has, once {@link BlobWriter.close} waits for it. */
  #drained: (() => void) | undefined;
  /** Settles when the thread has deleted its spares (its answer to request 0), or died. */
  #discarded: (() => void) | undefined;

  /** A writer for the blob folder at `root` (`<root>/<bucket>/<key>`). */
  constructor(root: string) {
    this.#root = root;
  }

  /** Replaces the blob at `bucket`/`key` with `body`, atomically. */
  async put(bucket: string, key: string, body: Uint8Array, metadata: BlobMetadata): Promise<void> {
    await this.#run({ op: 'put', bucket, key, body, metadata });
  }

  /**
   * Replaces the blob at `bucket`/`key` with an empty file, atomically, and resolves to a
   * descriptor of that file, open for reading and writing; the caller closes it.
   */
  async openForAppend(bucket: string, key: string, metadata: BlobMetadata): Promise<number> {
    const fd = await this.#run({ op: 'open-for-append', bucket, key, metadata });
    if (fd === undefined) throw new Error('the blob writer thread answered without a descriptor');
    return fd;
  }

  /**
   * Lets the tasks already asked for finish, deletes the thread's spare files and folders,
   * then stops the thread; later tasks are refused. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    const thread = this.#thread;
    if (thread === undefined) return;
    await new Promise<void>((resolve) => {
      this.#discarded = resolve;
      thread.ref();
      thread.postMessage({ op: 'discard-spares', id: 0 } satisfies BlobWriterRequest);
    });
    this.#thread = undefined;
    await thread.terminate();
  }

  #run(task: BlobWriterTask): Promise<number | undefined> {
    if (this.#closed) {
      const reason = 'the blob store is closed';
      return Promise.reject(failureError(task, { operation: operationOf(task), reason }));
    }
    const thread = this.#ensureThread();
    const id = this.#nextId;
    this.#nextId += 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { task, resolve, reject });
      if (this.#pending.size === 1) thread.ref();
      thread.postMessage({ ...task, id } satisfies BlobWriterRequest);
    });
  }

  #ensureThread(): Worker {
    if (this.#thread !== undefined) return this.#thread;
    // The thread opens log files for this one, which closes them: Node must not close them
    // again when the thread exits, by when their numbers may name other files.
    const thread = startModuleThread(siblingModuleUrl(import.meta.url, 'blob-writer-thread'), {
      trackUnmanagedFds: false,
      workerData: this.#root,
    });
    thread.unref();
    thread.on('message', (answer: BlobWriterAnswer) => {
      if (answer.id === 0) this.#discarded?.();
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) return;
      this.#settled(answer.id);
      if ('failure' in answer) pending.reject(failureError(pending.task, answer.failure));
      else pending.resolve(answer.fd);
    });
    const fail = (reason: string): void => this.#forget(thread, reason);
    thread.on('error', (error) => fail(`its thread failed: ${error.message}`));
    thread.on('messageerror', (error) => {
      fail(`its thread sent an unreadable answer: ${error.message}`);
      void thread.terminate();
    });
    thread.on('exit', (code) => fail(`its thread exited (${code})`));
    this.#thread = thread;
    return thread;
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) return;
    this.#thread?.unref();
    this.#drained?.();
    this.#drained = undefined;
  }

  /** Fails every pending task of `thread`, and lets it go: the next task starts another. */
  #forget(thread: Worker, reason: string): void {
    if (this.#thread !== thread) return;
    this.#thread = undefined;
    this.#discarded?.();
    thread.unref();
    const orphans = [...this.#pending.entries()];
    for (const [id, pending] of orphans) {
      this.#settled(id);
      pending.reject(failureError(pending.task, { operation: operationOf(pending.task), reason }));
    }
  }
}

/** The operation a task's errors name, as the store's other errors do. */
function operationOf(task: BlobWriterTask): string {
  return task.op === 'put' ? 'write' : 'open';
}

function failureError(task: BlobWriterTask, failure: BlobWriterFailure): JobPlaneOperationError {
  const cause =
    failure.code === undefined
      ? undefined
      : Object.assign(new Error(failure.reason), { code: failure.code });
  return new JobPlaneOperationError(
    failure.operation,
    blobLocation(task.bucket, task.key),
    failure.reason,
    cause === undefined ? {} : { cause },
  );
}
