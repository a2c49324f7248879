import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { blobKeyProblem } from '../../core/job-plane/blob-key-rules.js';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';

/** What is kept beside a blob's bytes. */
export interface BlobMetadata {
  readonly contentType?: string;
}

/** S3's bucket naming rules, which also keep a bucket name from leaving the root folder. */
export const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The on-disk layout of the embedded blob store, shared by the store and the URL handler:
 * `<root>/<bucket>/<key>` holds a blob's bytes (the S3 key layout, one folder per bucket),
 * `<root>/.metadata/<bucket>/<key>` its metadata as JSON, `<root>/.tmp/` files being written.
 * Bucket names follow S3's rules and keys `blobKeyProblem`'s, so no path leaves its bucket's
 * folder. As on any file system, a key cannot be both a blob and a prefix of another blob
 * (`a` and `a/b`); S3 allows that, the key layout of DESIGN.md never needs it.
 */
export class BlobFolder {
  readonly root: string;
  /** Folders this instance made or found; a blob write skips creating them again. */
  readonly #knownFolders = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The file of `bucket`/`key`; throws `JobPlaneOperationError` for a name that could escape. */
  blobPath(operation: string, bucket: string, key: string): string {
    return this.#within(operation, bucket, key, join(this.root, bucket));
  }

  /** The metadata file of `bucket`/`key`. */
  metadataPath(operation: string, bucket: string, key: string): string {
    return this.#within(operation, bucket, key, join(this.root, '.metadata', bucket));
  }

  /** The blob's bytes; `undefined` when there is no blob (or only a "folder") at the key. */
  async read(bucket: string, key: string): Promise<Uint8Array | undefined> {
    const path = this.blobPath('read', bucket, key);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw fileError('read', bucket, key, error);
    }
  }

  /** The blob's metadata; empty when none was recorded. */
  async readMetadata(bucket: string, key: string): Promise<BlobMetadata> {
    try {
      const text = await readFile(this.metadataPath('read', bucket, key), 'utf8');
      const parsed = JSON.parse(text) as { contentType?: unknown };
      return typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {};
    } catch {
      return {};
    }
  }

  /** Replaces the blob's bytes and metadata, each atomically (a temporary file renamed). */
  async write(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: BlobMetadata,
  ): Promise<void> {
    const path = this.blobPath('write', bucket, key);
    await Promise.all([
      this.writeMetadata(bucket, key, metadata),
      this.#replace(bucket, key, path, body),
    ]);
  }

  /** Records the blob's metadata atomically. */
  async writeMetadata(bucket: string, key: string, metadata: BlobMetadata): Promise<void> {
    const path = this.metadataPath('write', bucket, key);
    await this.#replace(bucket, key, path, new TextEncoder().encode(JSON.stringify(metadata)));
  }

  /** Makes `path` hold `body` atomically: readers see the old bytes or the new, never a part. */
  async #replace(bucket: string, key: string, path: string, body: Uint8Array): Promise<void> {
    const temporary = this.#temporaryPath();
    try {
      await this.#inFolders([dirname(temporary)], () => writeFile(temporary, body));
      await this.#inFolders([dirname(path)], () => rename(temporary, path));
    } catch (error) {
      await rm(temporary, { force: true });
      throw fileError('write', bucket, key, error);
    }
  }

  /**
   * A fresh empty file opened for writing, to be renamed over a blob by
   * {@link BlobFolder.moveIntoPlace}.
   */
  async openTemporaryFile(
    bucket: string,
    key: string,
  ): Promise<{ readonly path: string; readonly file: FileHandle }> {
    const path = this.#temporaryPath();
    try {
      const file = await this.#inFolders([dirname(path)], () => open(path, 'wx+'));
      return { path, file };
    } catch (error) {
      throw fileError('write', bucket, key, error);
    }
  }

  /** Renames `temporary` over the blob's file. */
  async moveIntoPlace(bucket: string, key: string, temporary: string): Promise<void> {
    const path = this.blobPath('write', bucket, key);
    try {
      await this.#inFolders([dirname(path)], () => rename(temporary, path));
    } catch (error) {
      await rm(temporary, { force: true });
      throw fileError('write', bucket, key, error);
    }
  }

  #temporaryPath(): string {
    return join(this.root, '.tmp', randomUUID());
  }

  /**
   * Runs `operation` once `folders` exist: folders this instance made before are taken to
   * still exist, and made again only if the operation finds one gone (someone deleted it).
   */
  async #inFolders<T>(folders: readonly string[], operation: () => Promise<T>): Promise<T> {
    const unknown = folders.filter((folder) => !this.#knownFolders.has(folder));
    await this.#makeFolders(unknown);
    try {
      return await operation();
    } catch (error) {
      if (unknown.length === folders.length || !isMissing(error)) throw error;
      await this.#makeFolders(folders);
      return operation();
    }
  }

  async #makeFolders(folders: readonly string[]): Promise<void> {
    await Promise.all(
      folders.map(async (folder) => {
        await mkdir(folder, { recursive: true });
        this.#knownFolders.add(folder);
      }),
    );
  }

  #within(operation: string, bucket: string, key: string, bucketFolder: string): string {
    const problem = !BUCKET_NAME.test(bucket)
      ? `the bucket name "${bucket}" breaks S3's naming rules`
      : blobKeyProblem(key);
    const path = resolve(bucketFolder, ...key.split('/'));
    if (problem !== undefined || !path.startsWith(bucketFolder + sep)) {
      throw new JobPlaneOperationError(
        operation,
        blobLocation(bucket, key),
        problem ?? 'the key leaves its bucket',
      );
    }
    return path;
  }
}

/** A failure of the local file system, as the job plane's error. */
export function fileError(
  operation: string,
  bucket: string,
  key: string,
  error: unknown,
): JobPlaneOperationError {
  return new JobPlaneOperationError(operation, blobLocation(bucket, key), errorMessage(error), {
    cause: error,
  });
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
