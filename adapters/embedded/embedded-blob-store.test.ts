import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobPlaneOptionsError } from '../../core/job-plane/job-plane-options.js';
import { describeBlobStoreContract } from '../../test/contracts/blob-store.contract.js';
import { waitForSpares } from '../../test/support/blob-spares.js';
import { MIN_SPARES } from './blob-folder.js';
import { BlobWriter } from './blob-writer.js';
import { EmbeddedBlobStore } from './embedded-blob-store.js';
import { LocalBlobServer } from './local-blob-server.js';

const roots: string[] = [];
const closers: { close(): Promise<void> }[] = [];

async function makeRoot(): Promise<{ root: string; writer: BlobWriter }> {
  const root = await mkdtemp(join(tmpdir(), 'forge-blobs-'));
  roots.push(root);
  const writer = new BlobWriter(root);
  closers.push(writer);
  return { root, writer };
}

async function makeStore(bucket = 'forge-logs'): Promise<EmbeddedBlobStore> {
  const { root, writer } = await makeRoot();
  const server = await LocalBlobServer.start({ root });
  closers.push(server);
  return new EmbeddedBlobStore({ root, bucket, presigner: server, writer });
}

afterAll(async () => {
  await Promise.all(closers.map((closer) => closer.close()));
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describeBlobStoreContract('EmbeddedBlobStore', () => makeStore());

describe('EmbeddedBlobStore on disk', () => {
  let root: string;
  let writer: BlobWriter;
  const presigner = { presign: () => 'http://127.0.0.1/unused' };

  beforeAll(async () => {
    ({ root, writer } = await makeRoot());
  });

  it('writes again after its folders, and its spares, were deleted behind its back', async () => {
    // Arrange
    const store = new EmbeddedBlobStore({ root, bucket: 'swept-results', presigner, writer });
    await store.put('run-2/phases/build/api/compile.json', '{"first":true}');
    const first = await store.openAppend('run-2/build/api/compile.log');
    first.append('first\n');
    await first.close();
    await waitForSpares(root, 2 * MIN_SPARES);
    for (const folder of ['swept-results', '.tmp', '.metadata']) {
      await rm(join(root, folder), { recursive: true, force: true, maxRetries: 3 });
    }

    const large = 'x'.repeat(512 * 1024);
    await store.put('run-2/discovery.json', large);
    for (const folder of ['swept-results', '.tmp']) {
      await rm(join(root, folder), { recursive: true, force: true, maxRetries: 3 });
    }

    // Act
    await store.put('run-2/discovery.json', large);
    await store.put('run-2/phases/build/api/compile.json', '{"second":true}');
    const second = await store.openAppend('run-2/build/api/compile.log');
    second.append('second\n');
    await second.close();

    // Assert
    expect(
      await readFile(join(root, 'swept-results', 'run-2/phases/build/api/compile.json'), 'utf8'),
    ).toBe('{"second":true}');
    expect(await readFile(join(root, 'swept-results', 'run-2/discovery.json'), 'utf8')).toBe(large);
    expect(await readFile(join(root, 'swept-results', 'run-2/build/api/compile.log'), 'utf8')).toBe(
      'second\n',
    );
  });

  it('keeps the S3 key layout, one folder per bucket', async () => {
    // Arrange
    const results = new EmbeddedBlobStore({
      root,
      bucket: 'pipeline-results',
      presigner,
      writer,
    });
    const logs = new EmbeddedBlobStore({ root, bucket: 'pipeline-logs', presigner, writer });

    // Act
    await results.put('run-1/discovery.json', '{}');
    const log = await logs.openAppend('run-1/build/api/compile.log');
    log.append('compiling\n');
    await log.close();

    // Assert
    expect(await readFile(join(root, 'pipeline-results', 'run-1', 'discovery.json'), 'utf8')).toBe(
      '{}',
    );
    expect(
      await readFile(join(root, 'pipeline-logs', 'run-1', 'build', 'api', 'compile.log'), 'utf8'),
    ).toBe('compiling\n');
    expect(await results.get('run-1/build/api/compile.log')).toBeUndefined();
  });

  it('leaves no temporary file beside a blob, and none behind once closed', async () => {
    // Arrange
    const own = await makeRoot();
    const store = new EmbeddedBlobStore({
      root: own.root,
      bucket: 'atomic-puts',
      presigner,
      writer: own.writer,
    });

    // Act
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => store.put('run-2/result.json', `{"n":${index}}`)),
    );
    await waitForSpares(own.root, 2 * MIN_SPARES);
    const beside = await readdir(join(own.root, 'atomic-puts', 'run-2'));
    await own.writer.close();

    // Assert
    expect(beside).toEqual(['result.json']);
    expect(await readdir(join(own.root, '.tmp'))).toEqual([]);
    expect(new TextDecoder().decode(await store.get('run-2/result.json'))).toBe('{"n":19}');
  });

  it('writes nothing outside its bucket for a key that tries to escape', async () => {
    // Arrange
    const store = new EmbeddedBlobStore({ root, bucket: 'escape-check', presigner, writer });

    // Act
    const attempt = store.put('../pipeline-results/run-1/discovery.json', 'overwritten');

    // Assert
    await expect(attempt).rejects.toThrow(/segment starting with "\."/);
    expect(await readFile(join(root, 'pipeline-results', 'run-1', 'discovery.json'), 'utf8')).toBe(
      '{}',
    );
  });

  it('refuses a bucket name that is not an S3 bucket name', () => {
    // Act / Assert
    expect(() => new EmbeddedBlobStore({ root, bucket: '../etc', presigner, writer })).toThrow(
      JobPlaneOptionsError,
    );
  });
});
