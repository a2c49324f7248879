import { parentPort } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import { errorMessage } from '../../core/errors.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { BlobFolder, type BlobMetadata } from './blob-folder.js';

/** What `BlobWriter` asks its thread to do in the blob folder at `root`. */
export type BlobWriterTask =
  | {
      readonly op: 'put';
      readonly root: string;
      readonly bucket: string;
      readonly key: string;
      readonly body: Uint8Array;
      readonly metadata: BlobMetadata;
    }
  | {
      readonly op: 'open-for-append';
      readonly root: string;
      readonly bucket: string;
      readonly key: string;
      readonly metadata: BlobMetadata;
    };

/** A task as it travels, with the id its answer carries back. */
export type BlobWriterRequest = BlobWriterTask & { readonly id: number };

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

/** The thread behind `BlobWriter`: makes blob files, one task at a time, in request order. */
function serve(port: NonNullable<typeof parentPort>): void {
  const folders = new Map<string, BlobFolder>();
  const folderAt = (root: string): BlobFolder => {
    let folder = folders.get(root);
    if (folder === undefined) {
      folder = new BlobFolder(root);
      folders.set(root, folder);
    }
    return folder;
  };
  port.on('message', (request: BlobWriterRequest) => {
    try {
      const folder = folderAt(request.root);
      switch (request.op) {
        case 'put':
          folder.put(request.bucket, request.key, request.body, request.metadata);
          port.postMessage({ id: request.id } satisfies BlobWriterAnswer);
          return;
        case 'open-for-append': {
          const fd = folder.openForAppend(request.bucket, request.key, request.metadata);
          port.postMessage({ id: request.id, fd } satisfies BlobWriterAnswer);
          return;
        }
        default:
          assertNever(request, 'blob writer request');
      }
    } catch (error) {
      port.postMessage({
        id: request.id,
        failure: describeFailure(error),
      } satisfies BlobWriterAnswer);
    }
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

if (parentPort !== null) serve(parentPort);
