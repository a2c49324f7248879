import { z } from 'zod';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { parseJobPlaneOptions } from '../../core/job-plane/job-plane-options.js';
import type { BlobAppender, BlobStore, PutOptions } from '../../core/ports/blob-store.js';
import { BUCKET_NAME, BlobFolder } from './blob-folder.js';
import type { BlobWriter } from './blob-writer.js';
import { EmbeddedLogAppender } from './embedded-log-appender.js';

/** Fifteen minutes, as on S3. */
const DEFAULT_PRESIGN_EXPIRY_SECONDS = 900;
/** Seven days, S3's longest. */
const MAX_PRESIGN_EXPIRY_SECONDS = 7 * 24 * 3600;

/** Makes the URLs of `presignGet`; `LocalBlobServer` is one. */
export interface BlobUrlPresigner {
  presign(bucket: string, key: string, expiresInSeconds: number): string;
}

/** Options of {@link EmbeddedBlobStore}. */
export interface EmbeddedBlobStoreOptions {
  /** The folder holding one folder per bucket (e.g. `.forge-data/blobs`). */
  readonly root: string;
  readonly bucket: string;
  /** Signs `presignGet` URLs: a `LocalBlobServer` on the same root. */
  readonly presigner: BlobUrlPresigner;
  /** Longest time appended bytes wait before readers see them; default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** Makes the files, off the event loop: one per root, which the stores' owner closes. */
  readonly writer: BlobWriter;
}

const optionsSchema = z.object({
  root: z.string().min(1),
  bucket: z.string().regex(BUCKET_NAME, "S3's bucket naming rules"),
  flushIntervalMs: z.number().int().positive().default(1000),
});

/**
 * The {@link BlobStore} of the embedded mode (DESIGN.md section 2): a local folder with the S3
 * key layout, `<root>/<bucket>/<key>` (see `BlobFolder`). Puts are atomic; logs are appended
 * to their file in place, so readers see each flush; presigned URLs are served by a
 * `LocalBlobServer`. Keys follow the same rules as on S3 (`blobKeyProblem`), which also keeps
 * every key inside its bucket's folder.
 */
export class EmbeddedBlobStore implements BlobStore {
  readonly bucket: string;
  readonly #folder: BlobFolder;
  readonly #writer: BlobWriter;
  readonly #presigner: BlobUrlPresigner;
  readonly #flushIntervalMs: number;

  constructor(options: EmbeddedBlobStoreOptions) {
    const { root, bucket, flushIntervalMs } = parseJobPlaneOptions(
      'EmbeddedBlobStore',
      optionsSchema,
      { root: options.root, bucket: options.bucket, flushIntervalMs: options.flushIntervalMs },
    );
    this.bucket = bucket;
    this.#folder = new BlobFolder(root);
    this.#writer = options.writer;
    this.#presigner = options.presigner;
    this.#flushIntervalMs = flushIntervalMs;
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const metadata = options.contentType === undefined ? {} : { contentType: options.contentType };
    this.#folder.blobPath('write', this.bucket, key);
    await this.#writer.put(this.bucket, key, bytes, metadata);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#folder.read(this.bucket, key);
  }

  async openAppend(key: string, options: PutOptions = {}): Promise<BlobAppender> {
    this.#folder.blobPath('write', this.bucket, key);
    return EmbeddedLogAppender.open({
      writer: this.#writer,
      bucket: this.bucket,
      key,
      contentType: options.contentType,
      flushIntervalMs: this.#flushIntervalMs,
    });
  }

  presignGet(key: string, expiresInSeconds = DEFAULT_PRESIGN_EXPIRY_SECONDS): Promise<string> {
    // A refused key or expiry rejects the promise, as on S3, instead of throwing.
    return new Promise((resolve) => resolve(this.#presign(key, expiresInSeconds)));
  }

  locationOf(key: string): string {
    return blobLocation(this.bucket, key);
  }

  #presign(key: string, expiresInSeconds: number): string {
    this.#folder.blobPath('presign', this.bucket, key);
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > MAX_PRESIGN_EXPIRY_SECONDS
    ) {
      throw new JobPlaneOperationError(
        'presign',
        this.locationOf(key),
        `expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_EXPIRY_SECONDS}, got ${expiresInSeconds}`,
      );
    }
    return this.#presigner.presign(this.bucket, key, expiresInSeconds);
  }
}
