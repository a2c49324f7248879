import { parentPort, workerData } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import { errorMessage } from '../../core/errors.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { BlobFolder, type BlobMetadata } from './blob-folder.js';

/** What `BlobWriter` asks its thread to do in its blob folder (the thread's `workerData`). */
export type BlobWriterTask =
  | {
      readonly op: 'put';
      readonly bucket: string;
      readonly key: string;
      readonly body: Uint8Array;
      readonly metadata: BlobMetadata;
    }
  | {
      readonly op: 'open-for-append';
      readonly bucket: string;
      readonly key: string;
      readonly metadata: BlobMetadata;
    };

/**
 * A task as it travels, with the id its answer carries back; or, last, the request to delete
 * the spares (see `BlobFolder.refillSpare`) and make no more.
 */
export type BlobWriterRequest =
  | (BlobWriterTask & { readonly id: number })
  | { readonly op: 'discard-spares'; readonly id: number };

/**
 * How long the thread waits without a task before it makes spares: they are made while steps
 * run, not while a wave of them starts or ends.
 */
export const REFILL_AFTER_IDLE_MS = 50;

/**
 * Why a task failed, in the parts of the `JobPlaneOperationError` the writer raises again on
 * its side (errors lose their class crossing a thread).
 */
export interface BlobWriterFailure {
  readonly operation: string;
  readonly reason: string;
  /** The file system's code (`ENOSPC`, `EACCES`...), when it gave one. */
  readonly code?: string;
}

/** The thread's answer to the request with the same `id`: a descriptor for `open-for-append`. */
export type BlobWriterAnswer =
  | { readonly id: number; readonly fd?: number }
  | { readonly id: number; readonly failure: BlobWriterFailure };

/**
 * The thread behind `BlobWriter`: makes blob files, one task at a time, in request order, and
 * spare files and folders once no task came for {@link REFILL_AFTER_IDLE_MS}, one per turn of
 * its event loop, so that a task waits for one spare at most.
 */
function serve(port: NonNullable<typeof parentPort>, folder: BlobFolder): void {
  let idle: NodeJS.Timeout | undefined;
  /** Bumped by every request: a refill that sees it change stops. */
  let generation = 0;
  let refilling = true;
  const refill = (started: number): void => {
    if (started !== generation || !refilling) return;
    try {
      if (folder.refillSpare()) setImmediate(refill, started);
    } catch {
      // Spares only save time: a full or failing disk is the writes' to report.
    }
  };
  port.on('message', (request: BlobWriterRequest) => {
    generation += 1;
    clearTimeout(idle);
    try {
      switch (request.op) {
        case 'put':
          folder.put(request.bucket, request.key, request.body, request.metadata);
          port.postMessage({ id: request.id } satisfies BlobWriterAnswer);
          break;
        case 'open-for-append': {
          const fd = folder.openForAppend(request.bucket, request.key, request.metadata);
          port.postMessage({ id: request.id, fd } satisfies BlobWriterAnswer);
          break;
        }
        case 'discard-spares':
          refilling = false;
          folder.discardSpares();
          port.postMessage({ id: request.id } satisfies BlobWriterAnswer);
          break;
        default:
          assertNever(request, 'blob writer request');
      }
    } catch (error) {
      port.postMessage({
        id: request.id,
        failure: describeFailure(error),
      } satisfies BlobWriterAnswer);
    }
    if (refilling) idle = setTimeout(refill, REFILL_AFTER_IDLE_MS, generation);
  });
}

function describeFailure(error: unknown): BlobWriterFailure {
  if (!(error instanceof JobPlaneOperationError)) {
    return { operation: 'write', reason: errorMessage(error) };
  }
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return {
    operation: error.operation,
    reason: error.reason,
    ...(typeof code === 'string' ? { code } : {}),
  };
}

if (parentPort !== null) serve(parentPort, new BlobFolder(workerData as string));
