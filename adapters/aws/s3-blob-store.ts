import { tmpdir } from 'node:os';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { blobKeyProblem } from '../../core/job-plane/blob-key-rules.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { parseJobPlaneOptions } from '../../core/job-plane/job-plane-options.js';
import type { BlobAppender, BlobStore, PutOptions } from '../../core/ports/blob-store.js';
import type { RetryOptions } from '../../core/retry.js';
import { callAws } from './aws-operation.js';
import { S3Bucket } from './s3-bucket.js';
import { S3LogAppender, type S3LogAppenderSettings } from './s3-log-appender.js';
import { chainLiveLogSegments, liveLogPrefix, parseLiveLogSegment } from './s3-live-log.js';

const MIB = 1024 * 1024;

/** Fifteen minutes: how long a presigned URL works unless the caller says otherwise. */
export const DEFAULT_PRESIGN_EXPIRY_SECONDS = 900;
/** Seven days: the longest a SigV4 presigned URL can work. */
export const MAX_PRESIGN_EXPIRY_SECONDS = 7 * 24 * 3600;

/** How often a reader retries a live log that changed under it (a merge, a close). */
const LIVE_READ_ATTEMPTS = 5;

/** Options of {@link S3BlobStore}; `client` and `bucket` are required. */
export interface S3BlobStoreOptions {
  /** Built with `sdkClientConfig` (SDK retries off: this store retries); `forcePathStyle` for emulators. */
  readonly client: S3Client;
  readonly bucket: string;
  /** How transient failures (5xx, `SlowDown`, network) are retried; core `retry`'s defaults. */
  readonly retry?: RetryOptions;
  /** Longest time appended bytes wait before readers see them; default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** A log segment is uploaded at once when this much is pending, and never merged beyond; default 8 MiB. */
  readonly maxSegmentBytes?: number;
  /** Complete logs larger than this are uploaded in parts; default 16 MiB. */
  readonly multipartThresholdBytes?: number;
  /** Size of each part of a multipart upload, at least S3's 5 MiB; default 8 MiB. */
  readonly multipartPartBytes?: number;
  /** Where open logs keep their local copy; default the OS temporary folder. */
  readonly temporaryDirectory?: string;
}

const optionsSchema = z.object({
  bucket: z.string().min(3).max(63),
  flushIntervalMs: z.number().int().positive().default(1000),
  maxSegmentBytes: z
    .number()
    .int()
    .positive()
    .default(8 * MIB),
  multipartThresholdBytes: z
    .number()
    .int()
    .positive()
    .default(16 * MIB),
  multipartPartBytes: z
    .number()
    .int()
    .min(5 * MIB)
    .max(5 * 1024 * MIB)
    .default(8 * MIB),
  temporaryDirectory: z.string().min(1).default(tmpdir()),
});

/**
 * The {@link BlobStore} on S3 (DESIGN.md section 5). Blobs are plain objects at their keys.
 * A log opened with `openAppend` is visible while it is written as segment objects under
 * `.live/<key>/` (see `S3LogAppender`), which `get` stitches together until `close()` puts the
 * complete object at `<key>`; a presigned URL serves only complete objects. A `.live/` lifecycle
 * rule (two days) should remove the segments of writers that died before closing.
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #s3: S3Bucket;
  readonly #appenderSettings: Omit<S3LogAppenderSettings, 'key' | 'contentType'>;

  constructor(options: S3BlobStoreOptions) {
    const { bucket, ...settings } = parseJobPlaneOptions('S3BlobStore', optionsSchema, {
      bucket: options.bucket,
      flushIntervalMs: options.flushIntervalMs,
      maxSegmentBytes: options.maxSegmentBytes,
      multipartThresholdBytes: options.multipartThresholdBytes,
      multipartPartBytes: options.multipartPartBytes,
      temporaryDirectory: options.temporaryDirectory,
    });
    this.bucket = bucket;
    this.#client = options.client;
    this.#s3 = new S3Bucket(options.client, bucket, options.retry);
    this.#appenderSettings = { bucket: this.#s3, ...settings };
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    this.#checkKey('s3:PutObject', key);
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    await this.#s3.putObject(key, bytes, options.contentType);
  }

  /** The complete object, else the live log's segments stitched together, else `undefined`. */
  async get(key: string): Promise<Uint8Array | undefined> {
    this.#checkKey('s3:GetObject', key);
    for (let attempt = 1; ; attempt++) {
      const complete = await this.#s3.getObject(key);
      if (complete !== undefined) return complete;
      const live = await this.#readLiveLog(key);
      if (live === 'absent') return this.#s3.getObject(key);
      if (live !== 'changed') return live;
      if (attempt >= LIVE_READ_ATTEMPTS) {
        throw new JobPlaneOperationError(
          's3:GetObject',
          this.locationOf(key),
          'the live log kept changing while it was read',
          { retryable: true },
        );
      }
    }
  }

  async openAppend(key: string, options: PutOptions = {}): Promise<BlobAppender> {
    this.#checkKey('s3:PutObject', key);
    await this.#s3.deleteObjects(await this.#s3.listKeys(liveLogPrefix(key)));
    const appender = await S3LogAppender.open({
      ...this.#appenderSettings,
      key,
      contentType: options.contentType,
    });
    await this.#s3.deleteObject(key);
    return appender;
  }

  async presignGet(
    key: string,
    expiresInSeconds = DEFAULT_PRESIGN_EXPIRY_SECONDS,
  ): Promise<string> {
    this.#checkKey('s3:GetObject', key);
    const expiry = z.number().int().min(1).max(MAX_PRESIGN_EXPIRY_SECONDS);
    if (!expiry.safeParse(expiresInSeconds).success) {
      throw new JobPlaneOperationError(
        's3:GetObject',
        this.locationOf(key),
        `expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_EXPIRY_SECONDS}, got ${expiresInSeconds}`,
      );
    }
    return callAws('s3:GetObject (presign)', this.locationOf(key), () =>
      getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        expiresIn: expiresInSeconds,
      }),
    );
  }

  locationOf(key: string): string {
    return this.#s3.location(key);
  }

  /** The live log's bytes; `absent` when it has no segments; `changed` when it moved under us. */
  async #readLiveLog(key: string): Promise<Uint8Array | 'absent' | 'changed'> {
    const prefix = liveLogPrefix(key);
    const listed = await this.#s3.listKeys(prefix);
    const segments = listed.flatMap((objectKey) => parseLiveLogSegment(prefix, objectKey) ?? []);
    if (segments.length === 0) return 'absent';
    const { chain, complete } = chainLiveLogSegments(segments);
    if (!complete) return 'changed';
    const bodies = await Promise.all(
      chain.map((segment) =>
        segment.end === segment.start
          ? Promise.resolve(new Uint8Array())
          : this.#s3.getObject(segment.objectKey),
      ),
    );
    if (bodies.some((body) => body === undefined)) return 'changed';
    return concatBytes(bodies as Uint8Array[]);
  }

  #checkKey(operation: string, key: string): void {
    const problem = blobKeyProblem(key);
    if (problem !== undefined) {
      throw new JobPlaneOperationError(operation, this.locationOf(key), problem);
    }
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
