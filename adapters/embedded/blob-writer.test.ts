import { closeSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { waitForSpares } from '../../test/support/blob-spares.js';
import { MIN_SPARES } from './blob-folder.js';
import { BlobWriter } from './blob-writer.js';

const roots: string[] = [];
const writers: BlobWriter[] = [];

async function makeWriter(): Promise<{ root: string; writer: BlobWriter }> {
  const root = await mkdtemp(join(tmpdir(), 'forge-blob-writer-'));
  roots.push(root);
  const writer = new BlobWriter(root);
  writers.push(writer);
  return { root, writer };
}

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.close()));
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

const text = (value: string) => new TextEncoder().encode(value);
const json = { contentType: 'application/json' };

describe('BlobWriter', () => {
  it('makes the files in the order it was asked', async () => {
    // Arrange
    const { root, writer } = await makeWriter();

    // Act: none awaited before the next is asked.
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        writer.put('results', 'run-1/result.json', text(`{"n":${index}}`), {}),
      ),
    );

    // Assert
    expect(await readFile(join(root, 'results', 'run-1', 'result.json'), 'utf8')).toBe('{"n":19}');
  });

  it('hands out a descriptor this thread appends to, which outlives the writer', async () => {
    // Arrange
    const { root, writer } = await makeWriter();
    await writer.put('logs', 'run-1/build/api/compile.log', text('an earlier attempt\n'), {});

    // Act
    const fd = await writer.openForAppend('logs', 'run-1/build/api/compile.log', {});
    const emptied = await readFile(join(root, 'logs', 'run-1/build/api/compile.log'), 'utf8');
    writeSync(fd, 'compiling\n');
    await writer.close();
    writeSync(fd, 'done\n');
    closeSync(fd);

    // Assert
    expect(emptied).toBe('');
    expect(await readFile(join(root, 'logs', 'run-1/build/api/compile.log'), 'utf8')).toBe(
      'compiling\ndone\n',
    );
  });

  it("fails a put with the key's location and the file system's reason", async () => {
    // Arrange: the bucket's folder is a file, so no key folder can be made in it.
    const { root, writer } = await makeWriter();
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'results'), 'not a folder');

    // Act
    const attempt = writer.put('results', 'run-1/result.json', text('{}'), {});

    // Assert
    const error: unknown = await attempt.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(JobPlaneOperationError);
    expect((error as JobPlaneOperationError).message).toMatch(
      /^write on s3:\/\/results\/run-1\/result\.json failed: ENOTDIR/,
    );
    expect(((error as Error).cause as { code?: string }).code).toBe('ENOTDIR');
  });

  it('makes spares while idle, so that a put creates neither its file nor its folders', async () => {
    // Arrange
    const { root, writer } = await makeWriter();
    await writer.put('results', 'run-1/discovery.json', text('{}'), json);
    const spares = await waitForSpares(root, 2 * MIN_SPARES);
    const spareInodes = new Set(
      await Promise.all(spares.map(async (path) => (await stat(path)).ino)),
    );

    // Act
    await writer.put('results', 'run-2/phases/build/api/compile.json', text('{"ok":true}'), json);

    // Assert: the blob and the four folders its key added are spares, renamed into place.
    const made = [
      'run-2/phases/build/api/compile.json',
      'run-2/phases/build/api',
      'run-2/phases/build',
      'run-2/phases',
      'run-2',
    ];
    const inodes = await Promise.all(
      made.map(async (path) => (await stat(join(root, 'results', path))).ino),
    );
    expect(inodes.every((inode) => spareInodes.has(inode))).toBe(true);
    expect(await readFile(join(root, 'results', made[0]!), 'utf8')).toBe('{"ok":true}');
  });

  it('deletes its spares when it closes', async () => {
    // Arrange
    const { root, writer } = await makeWriter();
    await writer.put('results', 'run-1/discovery.json', text('{}'), json);
    const spares = await waitForSpares(root, 2 * MIN_SPARES);

    // Act
    await writer.close();

    // Assert
    expect(spares.length).toBeGreaterThanOrEqual(2 * MIN_SPARES);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('finishes the puts already asked for when it closes, and refuses later ones', async () => {
    // Arrange
    const { root, writer } = await makeWriter();
    const puts = Array.from({ length: 30 }, (_, index) =>
      writer.put('results', `run-1/phases/build/p${index}/step.json`, text(`${index}`), {}),
    );

    // Act
    await writer.close();
    const settled = await Promise.allSettled(puts);
    const late = await writer.put('results', 'run-1/late.json', text('{}'), {}).then(
      () => 'written',
      (error: unknown) => error,
    );

    // Assert
    expect(settled.every((result) => result.status === 'fulfilled')).toBe(true);
    expect(await readFile(join(root, 'results', 'run-1/phases/build/p29/step.json'), 'utf8')).toBe(
      '29',
    );
    expect(late).toBeInstanceOf(JobPlaneOperationError);
    expect((late as Error).message).toMatch(/the blob store is closed/);
  });
});
