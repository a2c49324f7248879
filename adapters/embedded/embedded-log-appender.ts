import { rm, type FileHandle } from 'node:fs/promises';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { BufferedBlobAppender } from '../buffered-blob-appender.js';
import { fileError, type BlobFolder } from './blob-folder.js';

/** What an {@link EmbeddedLogAppender} writes to. */
export interface EmbeddedLogAppenderSettings {
  readonly folder: BlobFolder;
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
  readonly #file: FileHandle;
  #written = 0;

  private constructor(settings: EmbeddedLogAppenderSettings, file: FileHandle) {
    super(
      { flushIntervalMs: settings.flushIntervalMs },
      blobLocation(settings.bucket, settings.key),
    );
    this.#settings = settings;
    this.#file = file;
  }

  /** Replaces the blob at the key with an empty file (atomically) and opens it for appending. */
  static async open(settings: EmbeddedLogAppenderSettings): Promise<EmbeddedLogAppender> {
    const { folder, bucket, key, contentType } = settings;
    const metadata = contentType === undefined ? {} : { contentType };
    const [opened, recorded] = await Promise.allSettled([
      folder.openTemporaryFile(bucket, key),
      folder.writeMetadata(bucket, key, metadata),
    ]);
    try {
      if (opened.status === 'rejected') throw opened.reason;
      if (recorded.status === 'rejected') throw recorded.reason;
      await folder.moveIntoPlace(bucket, key, opened.value.path);
      return new EmbeddedLogAppender(settings, opened.value.file);
    } catch (error) {
      if (opened.status === 'fulfilled') {
        await opened.value.file.close().catch(() => undefined);
        await rm(opened.value.path, { force: true });
      }
      throw error instanceof JobPlaneOperationError ? error : fileError('open', bucket, key, error);
    }
  }

  protected async onFlush(): Promise<void> {
    await this.#appendPending();
  }

  protected async onClose(): Promise<void> {
    await this.#appendPending();
    await this.#file.close();
  }

  async #appendPending(): Promise<void> {
    this.#written += await this.writePending(async (bytes) => {
      try {
        await this.#file.write(bytes, 0, bytes.byteLength, this.#written);
      } catch (error) {
        throw fileError('append', this.#settings.bucket, this.#settings.key, error);
      }
    });
  }
}
