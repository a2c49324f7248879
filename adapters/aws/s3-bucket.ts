import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { blobLocation } from '../../core/job-plane/blob-keys.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { RetryOptions } from '../../core/retry.js';
import { callAws, hasErrorName } from './aws-operation.js';

/** The most keys one `DeleteObjects` call takes. */
const DELETE_BATCH_SIZE = 1000;

/** Reads bytes `[start, end)` of a local file being uploaded. */
export type ByteRangeReader = (start: number, end: number) => Promise<Uint8Array>;

/**
 * The S3 calls the blob store and its log appenders make on one bucket, each retried when
 * transient and mapped to `JobPlaneOperationError` (operation `s3:<Action>`, resource
 * `s3://bucket/key`). Internal to the S3 adapter.
 */
export class S3Bucket {
  readonly #client: S3Client;
  readonly #retry: RetryOptions | undefined;

  constructor(
    client: S3Client,
    readonly name: string,
    retryOptions?: RetryOptions,
  ) {
    this.#client = client;
    this.#retry = retryOptions;
  }

  /** `s3://bucket/key`. */
  location(key: string): string {
    return blobLocation(this.name, key);
  }

  async putObject(key: string, body: Uint8Array, contentType?: string): Promise<void> {
    await callAws(
      's3:PutObject',
      this.location(key),
      () =>
        this.#client.send(
          new PutObjectCommand({
            Bucket: this.name,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ...(contentType === undefined ? {} : { ContentType: contentType }),
          }),
        ),
      this.#retry,
    );
  }

  /** The object's bytes; `undefined` when there is no object at `key` (`NoSuchKey`). */
  getObject(key: string): Promise<Uint8Array | undefined> {
    return callAws(
      's3:GetObject',
      this.location(key),
      async () => {
        try {
          const response = await this.#client.send(
            new GetObjectCommand({ Bucket: this.name, Key: key }),
          );
          return (await response.Body?.transformToByteArray()) ?? new Uint8Array();
        } catch (error) {
          if (hasErrorName(error, 'NoSuchKey')) return undefined;
          throw error;
        }
      },
      this.#retry,
    );
  }

  /** Every key directly under `prefix` (not in deeper "folders"), in key order. */
  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await callAws(
        's3:ListObjectsV2',
        this.location(prefix),
        () =>
          this.#client.send(
            new ListObjectsV2Command({
              Bucket: this.name,
              Prefix: prefix,
              Delimiter: '/',
              ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
            }),
          ),
        this.#retry,
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return keys;
  }

  async deleteObject(key: string): Promise<void> {
    await callAws(
      's3:DeleteObject',
      this.location(key),
      () => this.#client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })),
      this.#retry,
    );
  }

  /** Deletes `keys` in batches; a key S3 reports as not deleted fails the call. */
  async deleteObjects(keys: readonly string[]): Promise<void> {
    for (let first = 0; first < keys.length; first += DELETE_BATCH_SIZE) {
      const batch = keys.slice(first, first + DELETE_BATCH_SIZE);
      const resource = this.location(batch[0] ?? '');
      const response = await callAws(
        's3:DeleteObjects',
        resource,
        () =>
          this.#client.send(
            new DeleteObjectsCommand({
              Bucket: this.name,
              Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
            }),
          ),
        this.#retry,
      );
      const failure = response.Errors?.[0];
      if (failure !== undefined) {
        throw new JobPlaneOperationError(
          's3:DeleteObjects',
          this.location(failure.Key ?? ''),
          `${failure.Code ?? 'Error'}: ${failure.Message ?? 'not deleted'}`,
        );
      }
    }
  }

  /**
   * Uploads `size` bytes read through `read` as one object, in parts of `partBytes` (S3's
   * multipart upload, for objects too large for one request). A failed upload is aborted so
   * that no orphaned parts are billed.
   */
  async putLargeObject(
    key: string,
    size: number,
    read: ByteRangeReader,
    options: { readonly partBytes: number; readonly contentType?: string | undefined },
  ): Promise<void> {
    const location = this.location(key);
    const { UploadId } = await callAws(
      's3:CreateMultipartUpload',
      location,
      () =>
        this.#client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.name,
            Key: key,
            ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
          }),
        ),
      this.#retry,
    );
    if (UploadId === undefined) {
      throw new JobPlaneOperationError('s3:CreateMultipartUpload', location, 'no UploadId');
    }
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, partNumber = 1; start < size; start += options.partBytes, partNumber++) {
        const body = await read(start, Math.min(size, start + options.partBytes));
        const { ETag } = await callAws(
          's3:UploadPart',
          location,
          () =>
            this.#client.send(
              new UploadPartCommand({
                Bucket: this.name,
                Key: key,
                UploadId,
                PartNumber: partNumber,
                Body: body,
                ContentLength: body.byteLength,
              }),
            ),
          this.#retry,
        );
        parts.push({ ETag, PartNumber: partNumber });
      }
      await callAws(
        's3:CompleteMultipartUpload',
        location,
        () =>
          this.#client.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.name,
              Key: key,
              UploadId,
              MultipartUpload: { Parts: parts },
            }),
          ),
        this.#retry,
      );
    } catch (error) {
      await this.#client
        .send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
}
