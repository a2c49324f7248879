import { closeSync, write } from 'node:fs';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { BufferedBlobAppender } from '../buffered-blob-appender.js';
import { fileError } from './blob-folder.js';
import type { BlobWriter } from './blob-writer.js';

/** What an {@link EmbeddedLogAppender} writes to. */
export interface EmbeddedLogAppenderSettings {
  readonly writer: BlobWriter;
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string | undefined;
  readonly flushIntervalMs: number;
}

/**
 * Appends a log straight to its blob file: chunks wait in memory until a flush (at most
 * `flushIntervalMs` after the first unflushed append, or `flush()`), which writes them at the
 * end of the file, where readers see them. `close()` flushes and closes the file; the blob is
 * then complete as it stands.
 */
export class EmbeddedLogAppender extends BufferedBlobAppender {
  readonly #settings: EmbeddedLogAppenderSettings;
  /** The open log file's descriptor. */
  readonly #fd: number;
  #fdClosed = false;
  #written = 0;

  private constructor(settings: EmbeddedLogAppenderSettings, fd: number) {
    super(
      { flushIntervalMs: settings.flushIntervalMs },
      blobLocation(settings.bucket, settings.key),
    );
    this.#settings = settings;
    this.#fd = fd;
  }

  /**
   * Replaces the blob at the key with an empty file (atomically, on the writer's thread) and
   * opens it for appending. The key must have been checked (`BlobFolder.blobPath`).
   */
  static async open(settings: EmbeddedLogAppenderSettings): Promise<EmbeddedLogAppender> {
    const { writer, bucket, key, contentType } = settings;
    const metadata = contentType === undefined ? {} : { contentType };
    return new EmbeddedLogAppender(settings, await writer.openForAppend(bucket, key, metadata));
  }

  protected async onFlush(): Promise<void> {
    await this.#appendPending();
  }

  protected async onClose(): Promise<void> {
    if (this.#fdClosed) {
      throw fileError('close', this.#settings.bucket, this.#settings.key, 'the log file is closed');
    }
    try {
      await this.#appendPending();
    } finally {
      // Closed whatever happened: a retried close must not write to a number reused since.
      this.#fdClosed = true;
      closeSync(this.#fd);
    }
  }

  async #appendPending(): Promise<void> {
    this.#written += await this.writePending(async (bytes) => {
      try {
        await writeFile(this.#fd, bytes, this.#written);
      } catch (error) {
        throw fileError('append', this.#settings.bucket, this.#settings.key, error);
      }
    });
  }
}

/** Writes all of `bytes` at `position` of the file. */
async function writeFile(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += await new Promise<number>((resolve, reject) => {
      write(fd, bytes, offset, bytes.byteLength - offset, position + offset, (error, written) => {
        if (error === null) resolve(written);
        else reject(error);
      });
    });
  }
}
