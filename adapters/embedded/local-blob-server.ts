import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobFolder } from './blob-folder.js';
import { createBlobRequestHandler } from './blob-request-handler.js';
import { BlobUrlSigner, type BlobUrlSignerOptions } from './blob-url-signer.js';

/** Options of {@link LocalBlobServer.start}. */
export interface LocalBlobServerOptions extends BlobUrlSignerOptions {
  /** The embedded blob store's root folder (the same as `EmbeddedBlobStore`'s). */
  readonly root: string;
  /** The port on 127.0.0.1; default 0 (a free one). */
  readonly port?: number;
}

type ServerState = 'listening' | 'closing' | 'closed';

/**
 * Serves the embedded blob store's presigned URLs over HTTP on 127.0.0.1 only, so a plain
 * `fetch` (a browser, `curl`) reads a blob the way it would read an S3 presigned URL. Start
 * with {@link LocalBlobServer.start}; hand it to `EmbeddedBlobStore` as its presigner.
 * The signing key is random per process unless given, so URLs die with the process.
 */
export class LocalBlobServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly #server: Server;
  readonly #signer: BlobUrlSigner;
  #state: ServerState = 'listening';
  #closing: Promise<void> | undefined;

  private constructor(server: Server, signer: BlobUrlSigner) {
    this.#server = server;
    this.#signer = signer;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Starts listening on 127.0.0.1. */
  static async start(options: LocalBlobServerOptions): Promise<LocalBlobServer> {
    const signer = new BlobUrlSigner(options);
    const handler = createBlobRequestHandler({ folder: new BlobFolder(options.root), signer });
    const server = createServer((request, response) => {
      void handler(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new LocalBlobServer(server, signer);
  }

  /** A URL that GETs `bucket`/`key` until `expiresInSeconds` from now. */
  presign(bucket: string, key: string, expiresInSeconds: number): string {
    return `${this.url}${this.#signer.signedPath(bucket, key, expiresInSeconds)}`;
  }

  /** Stops accepting requests and ends open connections; idempotent. */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'closing';
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => {
        this.#state = 'closed';
        resolve();
      });
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}
