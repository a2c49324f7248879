import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobPlaneOptionsError } from '../../core/job-plane/job-plane-options.js';
import { describeBlobStoreContract } from '../../test/contracts/blob-store.contract.js';
import { localAwsClientConfig, uniqueResourceName } from '../../test/support/local-aws.js';
import { sdkClientConfig } from './aws-client-config.js';
import { createBucket } from './job-plane-resources.js';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';

const MIB = 1024 * 1024;
const clients: S3Client[] = [];

function s3Client(): S3Client {
  const client = new S3Client({
    ...sdkClientConfig(localAwsClientConfig('s3')),
    forcePathStyle: true,
  });
  clients.push(client);
  return client;
}

/** A store on a bucket of its own on fauxqs. */
async function makeStore(options: Partial<S3BlobStoreOptions> = {}): Promise<S3BlobStore> {
  const client = s3Client();
  const bucket = uniqueResourceName('forge-logs');
  await createBucket(client, bucket);
  return new S3BlobStore({ client, bucket, ...options });
}

/** Every key under `prefix` in the store's bucket. */
async function keysUnder(store: S3BlobStore, prefix: string): Promise<string[]> {
  const client = s3Client();
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

afterAll(() => {
  for (const client of clients) client.destroy();
});

describeBlobStoreContract('S3BlobStore', () => makeStore());

describe('S3BlobStore live logs', () => {
  let temporaryDirectory: string;

  beforeAll(async () => {
    temporaryDirectory = await mkdtemp(join(tmpdir(), 'forge-s3-logs-'));
    return () => rm(temporaryDirectory, { recursive: true, force: true });
  });

  it('merges flushed segments so a reader fetches few objects', async () => {
    // Arrange
    const store = await makeStore({ temporaryDirectory });
    const key = 'run-1/build/api/compile.log';
    const log = await store.openAppend(key);

    // Act
    for (let line = 0; line < 64; line++) {
      log.append(`line ${line}\n`);
      await log.flush();
    }
    const segments = await keysUnder(store, `.live/${key}/`);
    const whileOpen = new TextDecoder().decode(await store.get(key));
    await log.close();

    // Assert: 64 flushes leave the binary counter at one segment (and the empty first one)
    expect(segments.length).toBeLessThanOrEqual(3);
    expect(whileOpen.split('\n')).toHaveLength(65);
    expect(await keysUnder(store, '.live/')).toEqual([]);
    expect(await readdir(temporaryDirectory)).toEqual([]);
  });

  it('never shows a reader an absent or shorter log while the writer closes', async () => {
    // Arrange
    const store = await makeStore({ temporaryDirectory });
    const key = 'run-1/build/api/race.log';
    const log = await store.openAppend(key);
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index}\n`);
    for (const line of lines) {
      log.append(line);
      await log.flush();
    }

    // Act
    const closing = log.close();
    const reads: (string | undefined)[] = [];
    let closed = false;
    void closing.then(() => (closed = true));
    while (!closed) {
      const bytes = await store.get(key);
      reads.push(bytes === undefined ? undefined : new TextDecoder().decode(bytes));
    }
    await closing;

    // Assert
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set([lines.join('')]));
  });

  it('uploads a large log in parts on close', async () => {
    // Arrange
    const store = await makeStore({
      temporaryDirectory,
      maxSegmentBytes: 4 * MIB,
      multipartThresholdBytes: 6 * MIB,
      multipartPartBytes: 5 * MIB,
    });
    const key = 'run-1/build/api/verbose.log';
    const chunk = Uint8Array.from({ length: MIB }, (_, index) => 97 + (index % 26));
    const log = await store.openAppend(key, { contentType: 'text/plain' });

    // Act
    for (let count = 0; count < 11; count++) log.append(chunk);
    await log.close();
    const stored = await store.get(key);
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));

    // Assert: three parts of 5, 5 and 1 MiB
    expect(head.ETag).toMatch(/-3"?$/);
    expect(stored?.byteLength).toBe(11 * MIB);
    expect(stored?.subarray(10 * MIB, 10 * MIB + 26)).toEqual(chunk.subarray(0, 26));
    expect(await keysUnder(store, '.live/')).toEqual([]);
  });

  it('refuses a multipart part size below S3 minimum', () => {
    // Act / Assert
    expect(
      () => new S3BlobStore({ client: s3Client(), bucket: 'forge-logs', multipartPartBytes: MIB }),
    ).toThrow(/S3BlobStore option multipartPartBytes/);
    expect(() => new S3BlobStore({ client: s3Client(), bucket: '' })).toThrow(JobPlaneOptionsError);
  });
});
