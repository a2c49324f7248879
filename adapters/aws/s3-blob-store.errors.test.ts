import {
  GetObjectCommand,
  ListObjectsV2Command,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { S3BlobStore } from './s3-blob-store.js';

const bucket = 'forge-logs';
const key = 'run-1/build/api/compile.log';
const location = `s3://${bucket}/${key}`;
const fastRetry = { maxAttempts: 3, sleep: () => Promise.resolve() };

/** An S3 error as the SDK raises it. */
function s3Error(name: string, httpStatusCode: number, message = name): S3ServiceException {
  return new S3ServiceException({
    name,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

/** A GetObject answer whose body holds `text`. */
function objectHolding(text: string): GetObjectCommandOutput {
  const body = { transformToByteArray: () => Promise.resolve(new TextEncoder().encode(text)) };
  return { $metadata: {}, Body: body } as unknown as GetObjectCommandOutput;
}

describe('S3BlobStore error handling', () => {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const s3 = mockClient(client);
  const temporaryDirectory = mkdtempSync(join(tmpdir(), 'forge-s3-errors-'));
  const store = new S3BlobStore({ client, bucket, retry: fastRetry, temporaryDirectory });

  beforeEach(() => {
    s3.reset();
  });

  afterAll(() => rm(temporaryDirectory, { recursive: true, force: true }));

  it('retries SlowDown (503) and InternalError (500), then succeeds', async () => {
    // Arrange
    s3.on(PutObjectCommand)
      .rejectsOnce(s3Error('SlowDown', 503, 'Please reduce your request rate.'))
      .rejectsOnce(s3Error('InternalError', 500))
      .resolves({});

    // Act
    await store.put(key, 'ok');

    // Assert
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(3);
  });

  it('retries a 500 on read, then answers the object', async () => {
    // Arrange
    s3.on(GetObjectCommand)
      .rejectsOnce(s3Error('InternalError', 500))
      .resolves(objectHolding('done\n'));

    // Act
    const bytes = await store.get(key);

    // Assert
    expect(new TextDecoder().decode(bytes)).toBe('done\n');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it.each([
    ['AccessDenied (403)', s3Error('AccessDenied', 403, 'Access Denied')],
    ['NoSuchBucket (404)', s3Error('NoSuchBucket', 404, 'The specified bucket does not exist')],
    ['ExpiredToken (400)', s3Error('ExpiredToken', 400, 'The provided token has expired.')],
  ])('surfaces %s at once, naming the operation and the resource', async (_label, error) => {
    // Arrange
    s3.on(PutObjectCommand).rejects(error);

    // Act
    const failure: unknown = await store.put(key, 'x').catch((thrown: unknown) => thrown);

    // Assert
    expect(failure).toBeInstanceOf(JobPlaneOperationError);
    expect(failure).toMatchObject({
      operation: 's3:PutObject',
      resource: location,
      retryable: false,
      cause: error,
    });
    expect((failure as Error).message).toContain(
      `s3:PutObject on ${location} failed: ${error.name}`,
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('reports NoSuchBucket on read as a failure, not as a missing blob', async () => {
    // Arrange
    s3.on(GetObjectCommand).rejects(s3Error('NoSuchBucket', 404));

    // Act / Assert
    await expect(store.get(key)).rejects.toMatchObject({
      operation: 's3:GetObject',
      resource: location,
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('answers undefined for NoSuchKey when no live log exists either', async () => {
    // Arrange
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no key', $metadata: {} }));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });

    // Act / Assert
    expect(await store.get(key)).toBeUndefined();
  });

  it('throws the last transient failure, marked retryable, when attempts run out', async () => {
    // Arrange
    s3.on(PutObjectCommand).rejects(s3Error('SlowDown', 503));

    // Act / Assert
    await expect(store.put(key, 'x')).rejects.toMatchObject({
      operation: 's3:PutObject',
      retryable: true,
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(fastRetry.maxAttempts);
  });

  it('keeps the bytes of a failed flush for the next one', async () => {
    // Arrange
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const log = await store.openAppend(key);
    s3.on(PutObjectCommand).rejects(s3Error('ServiceUnavailable', 503));
    log.append('line 1\n');
    await expect(log.flush()).rejects.toMatchObject({ retryable: true });
    s3.on(PutObjectCommand).resolves({});
    log.append('line 2\n');

    // Act
    await log.flush();

    // Assert
    const segment = s3.commandCalls(PutObjectCommand).at(-1)?.args[0].input;
    expect(segment?.Key).toBe(`.live/${key}/0000000000000000-0000000000000014`);
    expect(new TextDecoder().decode(segment?.Body as Uint8Array)).toBe('line 1\nline 2\n');
    await log.close();
  });

  it('uploads what a failed background flush left once S3 recovers, without a new append', async () => {
    // Arrange
    const quickStore = new S3BlobStore({
      client,
      bucket,
      retry: fastRetry,
      temporaryDirectory,
      flushIntervalMs: 20,
    });
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const log = await quickStore.openAppend(key);
    s3.on(PutObjectCommand).rejects(s3Error('ServiceUnavailable', 503));
    log.append('line 1\n');

    // Act
    await vi.waitFor(() => expect(s3.commandCalls(PutObjectCommand).length).toBeGreaterThan(4));
    s3.on(PutObjectCommand).resolves({});

    // Assert
    await vi.waitFor(() =>
      expect(s3.commandCalls(PutObjectCommand).at(-1)?.args[0].input.Key).toBe(
        `.live/${key}/0000000000000000-0000000000000007`,
      ),
    );
    await log.close();
  });

  it('fails openAppend at once when listing is denied', async () => {
    // Arrange
    s3.on(ListObjectsV2Command).rejects(s3Error('AccessDenied', 403));

    // Act / Assert
    await expect(store.openAppend(key)).rejects.toMatchObject({
      operation: 's3:ListObjectsV2',
      resource: `s3://${bucket}/.live/${key}/`,
      retryable: false,
    });
  });
});
