/** Writes a blob piece by piece while readers can already read what was written. */
export interface BlobAppender {
  /** Queues a chunk; it becomes visible to readers at the next flush (about every second). */
  append(chunk: string | Uint8Array): void;
  /** Makes everything appended so far visible to readers. */
  flush(): Promise<void>;
  /** Flushes and turns the blob into a single complete object; idempotent. */
  close(): Promise<void>;
}

export interface PutOptions {
  readonly contentType?: string;
}

/**
 * One bucket of blobs (DESIGN.md section 5: results, logs, staging), keyed by `/`-separated
 * keys. Logs are appended while their step runs, and readers see new lines within about a
 * second.
 */
export interface BlobStore {
  /** The bucket's name, for logs and result locations. */
  readonly bucket: string;
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
  /** The blob's bytes, including what an open appender has flushed; `undefined` if absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Opens a blob for appending, replacing any previous blob at `key`. */
  openAppend(key: string, options?: PutOptions): Promise<BlobAppender>;
  /** A URL that fetches the blob with a plain GET until it expires. */
  presignGet(key: string, expiresInSeconds?: number): Promise<string>;
  /** The location to record (`s3://bucket/key`). */
  locationOf(key: string): string;
}
