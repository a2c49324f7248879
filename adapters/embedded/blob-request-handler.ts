import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobFolder } from './blob-folder.js';
import type { BlobUrlSigner } from './blob-url-signer.js';

/** Answers one HTTP request; never rejects. */
export type BlobRequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<void>;

/** What {@link createBlobRequestHandler} serves from and checks with. */
export interface BlobRequestHandlerOptions {
  readonly folder: BlobFolder;
  readonly signer: BlobUrlSigner;
}

/**
 * The HTTP side of the embedded mode's presigned URLs, for `LocalBlobServer` and for any server
 * that mounts it at `/blobs/`: GET or HEAD of a URL from `BlobUrlSigner.signedPath` answers
 * the blob's bytes with the content type given at put. A missing, tampered or expired signature
 * is 403, a signed URL of a blob that does not exist 404, any other method 405.
 */
export function createBlobRequestHandler(options: BlobRequestHandlerOptions): BlobRequestHandler {
  return async (request, response) => {
    try {
      await answer(options, request, response);
    } catch {
      if (!response.headersSent) sendStatus(response, 500);
      else response.destroy();
    }
  };
}

async function answer(
  { folder, signer }: BlobRequestHandlerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendStatus(response, 405);
    return;
  }
  const verified = signer.verify(request.url ?? '/');
  if (verified.outcome === 'not-a-blob-url') return sendStatus(response, 404);
  if (verified.outcome === 'forbidden') return sendStatus(response, 403, verified.reason);
  const { bucket, key } = verified;
  let path: string;
  try {
    path = folder.blobPath('get', bucket, key);
  } catch {
    return sendStatus(response, 404);
  }
  const stats = await stat(path).catch(() => undefined);
  if (stats?.isFile() !== true) return sendStatus(response, 404);
  const { contentType } = await folder.readMetadata(bucket, key);
  response.writeHead(200, {
    'content-type': contentType ?? 'application/octet-stream',
    'content-length': stats.size,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (request.method === 'HEAD' || stats.size === 0) {
    response.end();
    return;
  }
  // A log still being appended grows: serve the bytes the length announced.
  await pipeline(createReadStream(path, { start: 0, end: stats.size - 1 }), response);
}

function sendStatus(response: ServerResponse, status: number, message?: string): void {
  const body = `${message ?? (status === 404 ? 'not found' : 'request refused')}\n`;
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
