import { open, rm, type FileHandle } from 'node:fs/promises';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { BlobAppender } from '../../core/ports/blob-store.js';
import { fileError, type BlobFolder } from './blob-folder.js';

/** What an {@link EmbeddedLogAppender} writes to. */
export interface EmbeddedLogAppenderSettings {
  readonly folder: BlobFolder;
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string | undefined;
  readonly flushIntervalMs: number;
}

type AppenderState = 'open' | 'closing' | 'closed';

/**
 * Appends a log straight to its blob file: chunks wait in memory until a flush (at most
 * `flushIntervalMs` after the first unflushed append, or `flush()`), which writes them at the
 * end of the file, where readers see them. `close()` flushes and closes the file; the blob is
 * then complete as it stands.
 */
export class EmbeddedLogAppender implements BlobAppender {
  readonly #settings: EmbeddedLogAppenderSettings;
  readonly #file: FileHandle;
  #pending: Uint8Array[] = [];
  #written = 0;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #state: AppenderState = 'open';
  #closing: Promise<void> | undefined;

  private constructor(settings: EmbeddedLogAppenderSettings, file: FileHandle) {
    this.#settings = settings;
    this.#file = file;
  }

  /** Replaces the blob at the key with an empty file (atomically) and opens it for appending. */
  static async open(settings: EmbeddedLogAppenderSettings): Promise<EmbeddedLogAppender> {
    const { folder, bucket, key, contentType } = settings;
    const temporary = await folder.createTemporaryFile(bucket, key);
    let file: FileHandle | undefined;
    try {
      file = await open(temporary, 'r+');
      await folder.writeMetadata(bucket, key, contentType === undefined ? {} : { contentType });
      await folder.moveIntoPlace(bucket, key, temporary);
      return new EmbeddedLogAppender(settings, file);
    } catch (error) {
      await file?.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw error instanceof JobPlaneOperationError ? error : fileError('open', bucket, key, error);
    }
  }

  append(chunk: string | Uint8Array): void {
    if (this.#state !== 'open') {
      const location = blobLocation(this.#settings.bucket, this.#settings.key);
      throw new JobPlaneOperationError('append', location, 'the log appender is closed');
    }
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk.slice();
    if (bytes.byteLength === 0) return;
    this.#pending.push(bytes);
    this.#armTimer();
  }

  flush(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    return this.#serially(() => this.#writePending());
  }

  /** Flushes and closes the file; idempotent, and a failed close may be retried. */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'closing';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closing ??= this.#serially(async () => {
      await this.#writePending();
      await this.#file.close();
    }).then(
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

  #armTimer(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      // Nobody awaits a background flush: after a failure the bytes stay pending for the next.
      this.flush().catch(() => {
        if (this.#state === 'open') this.#armTimer();
      });
    }, this.#settings.flushIntervalMs);
    this.#timer.unref();
  }

  #serially(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #writePending(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunks = this.#pending;
    this.#pending = [];
    const bytes = Buffer.concat(chunks);
    try {
      await this.#file.write(bytes, 0, bytes.byteLength, this.#written);
    } catch (error) {
      this.#pending.unshift(...chunks);
      throw fileError('append', this.#settings.bucket, this.#settings.key, error);
    }
    this.#written += bytes.byteLength;
  }
}
