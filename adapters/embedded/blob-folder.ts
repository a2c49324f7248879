import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
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
 * The content type a key's extension says, for the extensions of the job plane's keys (DESIGN.md
 * section 5): a blob put with exactly that type needs no metadata file.
 */
const CONTENT_TYPE_BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['.json', 'application/json'],
  ['.log', 'text/plain; charset=utf-8'],
  ['.txt', 'text/plain; charset=utf-8'],
]);

/** The content type `key`'s extension says, if it is one of {@link CONTENT_TYPE_BY_EXTENSION}. */
export function contentTypeOfKey(key: string): string | undefined {
  return CONTENT_TYPE_BY_EXTENSION.get(posix.extname(key).toLowerCase());
}

/** Spare files, and spare folders, a {@link BlobFolder} keeps at least once it refills. */
export const MIN_SPARES = 16;
/** Spare files, and spare folders, a {@link BlobFolder} keeps at most. */
export const MAX_SPARES = 512;

/**
 * The on-disk layout of the embedded blob store, shared by the store and the URL handler:
 * `<root>/<bucket>/<key>` holds a blob's bytes (the S3 key layout, one folder per bucket),
 * `<root>/.metadata/<bucket>/<key>` its metadata as JSON, `<root>/.tmp/` files being written.
 * A blob whose content type is the one its key's extension says ({@link contentTypeOfKey}:
 * every log and result of the job plane) has no metadata file: recording it would cost a folder,
 * a file and a rename per blob for nothing the key does not already say.
 * Bucket names follow S3's rules and keys `blobKeyProblem`'s, so no path leaves its bucket's
 * folder. As on any file system, a key cannot be both a blob and a prefix of another blob
 * (`a` and `a/b`); S3 allows that, the key layout of DESIGN.md never needs it.
 *
 * Its writes ({@link BlobFolder.put}, {@link BlobFolder.openForAppend}) block: the embedded
 * blob store makes them on the `BlobWriter` thread, never on the event loop that starts steps.
 * Reads are asynchronous.
 *
 * Creating a file or a folder is most of a write's cost (the kernel finding a free inode).
 * The writer's thread, while no write is asked of it, has {@link BlobFolder.refillSpare} make
 * empty files and folders ahead, in `<root>/.tmp/spares-<id>/`: a write then renames a spare
 * file, written, over the blob, and a spare folder to each missing key folder, so that the
 * writes at a step's start and end create no inode. It keeps as many as the busiest stretch
 * between two refills took ({@link MIN_SPARES} to {@link MAX_SPARES} of each);
 * {@link BlobFolder.discardSpares} deletes them. A process killed meanwhile leaves them, empty.
 */
export class BlobFolder {
  readonly root: string;
  /** Folders this instance made or found; a write skips creating them again. */
  readonly #knownFolders = new Set<string>();
  /** The folder of this instance's spares (see {@link BlobFolder.refillSpare}). */
  readonly #sparesFolder: string;
  readonly #spareFiles: string[] = [];
  readonly #spareFolders: string[] = [];
  /** Spares of each kind taken since the last refill. */
  #filesTaken = 0;
  #foldersTaken = 0;
  #spareTarget = 0;

  constructor(root: string) {
    this.root = resolve(root);
    this.#sparesFolder = join(this.root, '.tmp', `spares-${randomUUID()}`);
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

  /**
   * The blob's metadata: what was recorded; when no metadata file exists, the content type its
   * key's extension says (see `writeMetadata`); else empty.
   */
  async readMetadata(bucket: string, key: string): Promise<BlobMetadata> {
    let text: string;
    try {
      text = await readFile(this.metadataPath('read', bucket, key), 'utf8');
    } catch (error) {
      const inferred = isMissing(error) ? contentTypeOfKey(key) : undefined;
      return inferred === undefined ? {} : { contentType: inferred };
    }
    try {
      const parsed = JSON.parse(text) as { contentType?: unknown };
      return typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {};
    } catch {
      return {};
    }
  }

  /**
   * Replaces the blob's bytes and metadata, each atomically (a temporary file renamed).
   * Blocks; throws `JobPlaneOperationError`.
   */
  put(bucket: string, key: string, body: Uint8Array, metadata: BlobMetadata): void {
    const path = this.blobPath('write', bucket, key);
    this.#writeMetadata(bucket, key, metadata);
    this.#replaceNow(bucket, key, path, body);
  }

  /**
   * Replaces the blob with an empty file, atomically, and returns a descriptor of that file
   * open for reading and writing, for appending: readers see what is written at once.
   * Blocks; throws `JobPlaneOperationError`.
   */
  openForAppend(bucket: string, key: string, metadata: BlobMetadata): number {
    const temporary = this.#openTemporaryFile(bucket, key);
    try {
      this.#writeMetadata(bucket, key, metadata);
      this.#moveIntoPlace(bucket, key, temporary.path);
    } catch (error) {
      this.#discardTemporaryFile(temporary);
      throw error;
    }
    return temporary.fd;
  }

  /**
   * Records the blob's metadata atomically; when the key's extension says it all (the content
   * type is the extension's, or neither has one), deletes any record of an earlier put instead.
   */
  #writeMetadata(bucket: string, key: string, metadata: BlobMetadata): void {
    const path = this.metadataPath('write', bucket, key);
    if (metadata.contentType === contentTypeOfKey(key)) {
      try {
        unlinkSync(path);
      } catch (error) {
        if (!isMissing(error)) throw fileError('write', bucket, key, error);
      }
      return;
    }
    this.#replaceNow(bucket, key, path, new TextEncoder().encode(JSON.stringify(metadata)));
  }

  /** Makes `path` hold `body` atomically: readers see the old bytes or the new, never a part. */
  #replaceNow(bucket: string, key: string, path: string, body: Uint8Array): void {
    const temporary = this.#temporaryPath();
    try {
      this.#inFolders([dirname(temporary)], () => writeFileSync(temporary, body));
      this.#inFolders([dirname(path)], () => renameSync(temporary, path));
    } catch (error) {
      rmSync(temporary, { force: true });
      throw fileError('write', bucket, key, error);
    }
  }

  /**
   * A fresh empty file opened for reading and writing (its descriptor), to be renamed over a
   * blob by `moveIntoPlace`.
   */
  #openTemporaryFile(bucket: string, key: string): { readonly path: string; readonly fd: number } {
    const path = this.#temporaryPath();
    try {
      // A spare exists and is empty; a new name is a random UUID, which no file has.
      return { path, fd: this.#inFolders([dirname(path)], () => openSync(path, 'w+')) };
    } catch (error) {
      throw fileError('write', bucket, key, error);
    }
  }

  /** Renames `temporary` over the blob's file; the temporary file is deleted if that fails. */
  #moveIntoPlace(bucket: string, key: string, temporary: string): void {
    const path = this.blobPath('write', bucket, key);
    try {
      this.#inFolders([dirname(path)], () => renameSync(temporary, path));
    } catch (error) {
      rmSync(temporary, { force: true });
      throw fileError('write', bucket, key, error);
    }
  }

  /** Closes a descriptor from `openTemporaryFile` and deletes its file. */
  #discardTemporaryFile(temporary: { readonly path: string; readonly fd: number }): void {
    try {
      closeSync(temporary.fd);
    } catch {
      // Closed already.
    }
    rmSync(temporary.path, { force: true });
  }

  /** A path for a temporary file: a spare (an empty file) when one is left, else a new name. */
  #temporaryPath(): string {
    const spare = this.#spareFiles.pop();
    if (spare === undefined) return join(this.root, '.tmp', randomUUID());
    this.#filesTaken += 1;
    return spare;
  }

  /**
   * Makes one spare file or folder, of the kind furthest below its target, and says whether
   * more are wanted. The target is the most spares of one kind taken between two refills so
   * far, within {@link MIN_SPARES} and {@link MAX_SPARES}.
   */
  refillSpare(): boolean {
    if (this.#filesTaken > 0 || this.#foldersTaken > 0 || this.#spareTarget === 0) {
      const taken = Math.max(this.#filesTaken, this.#foldersTaken);
      this.#spareTarget = Math.min(MAX_SPARES, Math.max(MIN_SPARES, taken, this.#spareTarget));
      this.#filesTaken = 0;
      this.#foldersTaken = 0;
    }
    const files = this.#spareFiles.length;
    const folders = this.#spareFolders.length;
    if (files >= this.#spareTarget && folders >= this.#spareTarget) return false;
    const path = join(this.#sparesFolder, randomUUID());
    this.#inFolders([this.#sparesFolder], () => {
      if (files <= folders) closeSync(openSync(path, 'wx'));
      else mkdirSync(path);
    });
    (files <= folders ? this.#spareFiles : this.#spareFolders).push(path);
    return files + folders + 1 < 2 * this.#spareTarget;
  }

  /** Deletes the spares; a later write creates its files and folders itself. */
  discardSpares(): void {
    this.#spareFiles.length = 0;
    this.#spareFolders.length = 0;
    this.#knownFolders.delete(this.#sparesFolder);
    rmSync(this.#sparesFolder, { recursive: true, force: true });
  }

  /**
   * Runs `operation` once `folders` exist: folders this instance made before are taken to
   * still exist, and made again only if the operation finds one gone (someone deleted it).
   */
  #inFolders<T>(folders: readonly string[], operation: () => T): T {
    const unknown = folders.filter((folder) => !this.#knownFolders.has(folder));
    this.#makeFolders(unknown);
    try {
      return operation();
    } catch (error) {
      if (unknown.length === folders.length || !isMissing(error)) throw error;
      this.#makeFolders(folders);
      return operation();
    }
  }

  #makeFolders(folders: readonly string[]): void {
    for (const folder of folders) {
      this.#makeFolder(folder);
      this.#knownFolders.add(folder);
    }
  }

  /**
   * Makes `folder` and its missing parents, renaming spare folders into place while there are
   * any; never inside `.tmp`, where the spares are.
   */
  #makeFolder(folder: string): void {
    const spare =
      folder.startsWith(this.root + sep) && !folder.startsWith(join(this.root, '.tmp'))
        ? this.#spareFolders.pop()
        : undefined;
    if (spare === undefined) {
      mkdirSync(folder, { recursive: true });
      return;
    }
    if (this.#moveSpareFolder(spare, folder)) return;
    // The parent is missing (made now, then the spare moved again), or the spare is: someone
    // deleted `.tmp`, with every spare.
    this.#makeFolder(dirname(folder));
    if (this.#moveSpareFolder(spare, folder)) return;
    this.#spareFiles.length = 0;
    this.#spareFolders.length = 0;
    mkdirSync(folder, { recursive: true });
  }

  /** Renames `spare` to `folder`; false when either's folder is missing. */
  #moveSpareFolder(spare: string, folder: string): boolean {
    try {
      renameSync(spare, folder);
      this.#foldersTaken += 1;
      return true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOENT') return false;
      // Still a spare; `folder` was made meanwhile (by another writer), or cannot be.
      this.#spareFolders.push(spare);
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return true;
      throw error;
    }
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
