import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferedBlobAppender } from '../buffered-blob-appender.js';
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
export class S3LogAppender extends BufferedBlobAppender {
  readonly #settings: S3LogAppenderSettings;
  readonly #folder: string;
  readonly #file: FileHandle;
  /** Bytes written to the local file, and how many of them are in segments. */
  #written = 0;
  #uploaded = 0;
  readonly #segments: UploadedSegment[] = [];

  private constructor(settings: S3LogAppenderSettings, folder: string, file: FileHandle) {
    super(
      { flushIntervalMs: settings.flushIntervalMs, flushAtBytes: settings.maxSegmentBytes },
      settings.bucket.location(settings.key),
    );
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

  protected async onFlush(): Promise<void> {
    // Once closing, `close()` makes everything visible as the complete object.
    if (!this.isOpen) return;
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

  protected onClose(): Promise<void> {
    return this.#finish();
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
    this.#written += await this.writePending((bytes) =>
      localFileCall('write', this.#folder, async () => {
        await this.#file.write(bytes, 0, bytes.byteLength, this.#written);
      }),
    );
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
