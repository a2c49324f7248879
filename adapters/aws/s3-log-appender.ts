import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobAppender } from '../../core/ports/blob-store.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { errorMessage } from '../../core/errors.js';
import type { S3Bucket } from './s3-bucket.js';
import { liveLogPrefix, liveLogSegment, type LiveLogSegment } from './s3-live-log.js';

/** Settings of one {@link S3LogAppender}, compiled by `S3BlobStore`. */
export interface S3LogAppenderSettings {
  readonly bucket: S3Bucket;
  readonly key: string;
  readonly contentType: string | undefined;
  readonly flushIntervalMs: number;
  readonly maxSegmentBytes: number;
  readonly multipartThresholdBytes: number;
  readonly multipartPartBytes: number;
  readonly temporaryDirectory: string;
}

/** A segment the writer uploaded, with its merge level (a binary counter, as in an LSM tree). */
interface UploadedSegment extends LiveLogSegment {
  readonly level: number;
}

type AppenderState = 'open' | 'closing' | 'closed';

/**
 * Appends a live log to S3 without re-uploading it: every flush uploads only the bytes written
 * since the last one as a segment object (see `s3-live-log.ts`), while the whole log is kept in
 * a local temporary file. Two neighbouring segments of the same level are merged into one of
 * the next level (up to `maxSegmentBytes`), so a reader fetches O(log n) objects and each byte
 * is uploaded O(log n) times. `close()` uploads the complete object at `key` (multipart when
 * large), then deletes the segments and the temporary file.
 *
 * Flushes run one at a time, at most `flushIntervalMs` after the first unflushed append, at
 * once when `maxSegmentBytes` are pending, and on `flush()`. A failed background flush loses
 * nothing: the bytes stay in the file and the next flush uploads them.
 */
export class S3LogAppender implements BlobAppender {
  readonly #settings: S3LogAppenderSettings;
  readonly #folder: string;
  readonly #file: FileHandle;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes written to the local file, and how many of them are in segments. */
  #written = 0;
  #uploaded = 0;
  readonly #segments: UploadedSegment[] = [];
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #state: AppenderState = 'open';
  #closing: Promise<void> | undefined;

  private constructor(settings: S3LogAppenderSettings, folder: string, file: FileHandle) {
    this.#settings = settings;
    this.#folder = folder;
    this.#file = file;
  }

  /** Creates the local file and the empty first segment, so the log reads as empty at once. */
  static async open(settings: S3LogAppenderSettings): Promise<S3LogAppender> {
    const folder = await localFileCall('mkdtemp', settings.temporaryDirectory, () =>
      mkdtemp(join(settings.temporaryDirectory, 'forge-log-')),
    );
    let file: FileHandle | undefined;
    try {
      file = await localFileCall('open', folder, () => open(join(folder, 'log'), 'w+'));
      const empty = liveLogSegment(settings.key, 0, 0);
      await settings.bucket.putObject(empty.objectKey, new Uint8Array());
      return new S3LogAppender(settings, folder, file);
    } catch (error) {
      await file?.close().catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  append(chunk: string | Uint8Array): void {
    if (this.#state !== 'open') {
      throw new JobPlaneOperationError('append', this.#location, 'the log appender is closed');
    }
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk.slice();
    if (bytes.byteLength === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    if (this.#pendingBytes >= this.#settings.maxSegmentBytes) this.#flushInBackground();
    else this.#armTimer();
  }

  flush(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    return this.#serially(() => this.#flushOnce());
  }

  /** Flushes, uploads the complete object, removes the segments; a failed close may be retried. */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'closing';
    this.#stopTimer();
    this.#closing ??= this.#serially(() => this.#finish()).then(
      () => {
        this.#state = 'closed';
      },
      (error: unknown) => {
        this.#closing = undefined;
        throw error;
      },
    );
    return this.#closing;
  }

  get #location(): string {
    return this.#settings.bucket.location(this.#settings.key);
  }

  #armTimer(): void {
    this.#timer ??= setTimeout(() => this.#flushInBackground(), this.#settings.flushIntervalMs);
    this.#timer.unref();
  }

  #flushInBackground(): void {
    this.#stopTimer();
    // Nobody awaits a background flush: after a failure (already retried) the bytes stay in
    // the local file, and the next tick uploads them.
    this.flush().catch(() => {
      if (this.#state === 'open') this.#armTimer();
    });
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #serially(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #flushOnce(): Promise<void> {
    this.#stopTimer();
    // Once closing, `close()` makes everything visible as the complete object.
    if (this.#state !== 'open') return;
    await this.#writePending();
    if (this.#written === this.#uploaded) return;
    const segment = liveLogSegment(this.#settings.key, this.#uploaded, this.#written);
    await this.#settings.bucket.putObject(
      segment.objectKey,
      await this.#read(segment.start, segment.end),
    );
    this.#uploaded = segment.end;
    this.#segments.push({ ...segment, level: 0 });
    // Merging is an optimisation for readers: the bytes are already visible, so a failure
    // only leaves more segments, and the next flush tries again.
    await this.#mergeSegments().catch(() => undefined);
  }

  async #mergeSegments(): Promise<void> {
    for (;;) {
      const top = this.#segments.at(-1);
      const below = this.#segments.at(-2);
      if (top === undefined || below === undefined || top.level !== below.level) return;
      if (top.end - below.start > this.#settings.maxSegmentBytes) return;
      const merged = liveLogSegment(this.#settings.key, below.start, top.end);
      await this.#settings.bucket.putObject(
        merged.objectKey,
        await this.#read(merged.start, merged.end),
      );
      this.#segments.splice(-2, 2, { ...merged, level: top.level + 1 });
      await this.#settings.bucket.deleteObjects([below.objectKey, top.objectKey]);
    }
  }

  async #writePending(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const chunks = this.#pending;
    const bytes = Buffer.concat(chunks);
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      await localFileCall('write', this.#folder, () =>
        this.#file.write(bytes, 0, bytes.byteLength, this.#written),
      );
    } catch (error) {
      this.#pending.unshift(...chunks);
      this.#pendingBytes += bytes.byteLength;
      throw error;
    }
    this.#written += bytes.byteLength;
  }

  async #finish(): Promise<void> {
    const { bucket, key, contentType } = this.#settings;
    await this.#writePending();
    if (this.#written <= this.#settings.multipartThresholdBytes) {
      await bucket.putObject(key, await this.#read(0, this.#written), contentType);
    } else {
      await bucket.putLargeObject(key, this.#written, (start, end) => this.#read(start, end), {
        partBytes: this.#settings.multipartPartBytes,
        contentType,
      });
    }
    // The complete object is in place, so readers no longer need the segments; leftovers
    // (a failed delete) cost only storage until the `.live/` lifecycle rule removes them.
    await bucket
      .listKeys(liveLogPrefix(key))
      .then((keys) => bucket.deleteObjects(keys))
      .catch(() => undefined);
    await this.#file.close().catch(() => undefined);
    await rm(this.#folder, { recursive: true, force: true }).catch(() => undefined);
  }

  async #read(start: number, end: number): Promise<Uint8Array> {
    const buffer = Buffer.alloc(end - start);
    let filled = 0;
    while (filled < buffer.byteLength) {
      const { bytesRead } = await localFileCall('read', this.#folder, () =>
        this.#file.read(buffer, filled, buffer.byteLength - filled, start + filled),
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer;
  }
}

async function localFileCall<T>(
  operation: string,
  path: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new JobPlaneOperationError(`fs:${operation}`, path, errorMessage(error), {
      cause: error,
    });
  }
}
