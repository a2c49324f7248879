import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

/** Readers of a live log must see new lines "within about a second"; this allows for slow CI. */
const LIVE_LOG_DEADLINE_MS = 2500;

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

/** Polls `read` until it answers `expected` or the deadline passes; answers the last value. */
async function eventually<T>(read: () => Promise<T>, expected: T, deadlineMs: number): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (value === expected || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The behaviour every `BlobStore` adapter shares (DESIGN.md sections 2 and 5), run unchanged
 * against each: `makeStore` answers a store on a bucket of its own (the caller cleans up).
 */
export function describeBlobStoreContract(name: string, makeStore: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    /** A key no other test uses, in the layout of DESIGN.md section 5. */
    const freshKey = (file: string) => `run-${randomUUID()}/build/api-server/${file}`;

    beforeAll(async () => {
      store = await makeStore();
    });

    it('round-trips text as UTF-8', async () => {
      // Arrange
      const key = freshKey('discovery.json');
      const body = '{"projects":["api-server"],"note":"grüße ✓"}\n';

      // Act
      await store.put(key, body, { contentType: 'application/json' });

      // Assert
      expect(text(await store.get(key))).toBe(body);
    });

    it('round-trips every byte value', async () => {
      // Arrange
      const key = freshKey('artifact.bin');
      const body = Uint8Array.from({ length: 512 }, (_, index) => index % 256);

      // Act
      await store.put(key, body);

      // Assert
      expect(Array.from((await store.get(key)) ?? [])).toEqual(Array.from(body));
    });

    it('round-trips a blob of a megabyte (the discovery output limit)', async () => {
      // Arrange
      const key = freshKey('discovery.json');
      const body = Uint8Array.from({ length: 1024 * 1024 }, (_, index) => (index * 31) % 251);

      // Act
      await store.put(key, body);

      // Assert
      expect(Buffer.compare(Buffer.from((await store.get(key)) ?? []), Buffer.from(body))).toBe(0);
    });

    it('replaces a blob on a second put', async () => {
      // Arrange
      const key = freshKey('step.json');
      await store.put(key, 'first version, longer than the second');

      // Act
      await store.put(key, 'second');

      // Assert
      expect(text(await store.get(key))).toBe('second');
    });

    it('answers undefined for a key that holds nothing', async () => {
      // Act / Assert
      expect(await store.get(freshKey('missing.json'))).toBeUndefined();
    });

    it.each([
      '../escape',
      'run/../../escape',
      '/absolute',
      'run//double',
      'run/',
      '.hidden',
      'a\\b',
    ])('refuses the key %j', async (key) => {
      // Act / Assert
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(JobPlaneOperationError);
      await expect(store.get(key)).rejects.toBeInstanceOf(JobPlaneOperationError);
      await expect(store.openAppend(key)).rejects.toBeInstanceOf(JobPlaneOperationError);
    });

    it('shows a live log to readers while it is written, then as one complete blob', async () => {
      // Arrange
      const key = freshKey('test.log');
      const log = await store.openAppend(key, { contentType: 'text/plain; charset=utf-8' });

      // Act / Assert: an opened log exists and is empty
      expect(text(await store.get(key))).toBe('');

      // Act / Assert: an explicit flush makes lines visible at once
      log.append('line 1\n');
      log.append(new TextEncoder().encode('line 2\n'));
      await log.flush();
      expect(text(await store.get(key))).toBe('line 1\nline 2\n');

      // Act / Assert: without a flush, lines show within about a second
      log.append('line 3 ✓\n');
      const expected = 'line 1\nline 2\nline 3 ✓\n';
      expect(
        await eventually(async () => text(await store.get(key)), expected, LIVE_LOG_DEADLINE_MS),
      ).toBe(expected);

      // Act / Assert: close turns it into the complete blob
      log.append('done\n');
      await log.close();
      expect(text(await store.get(key))).toBe(`${expected}done\n`);
    });

    it('keeps every byte of a log flushed many times, in order', async () => {
      // Arrange
      const key = freshKey('build.log');
      const log = await store.openAppend(key);
      const lines = Array.from({ length: 40 }, (_, index) => `${index} ${'x'.repeat(index * 7)}\n`);

      // Act
      for (const [index, line] of lines.entries()) {
        log.append(line);
        await log.flush();
        if (index % 10 === 9) {
          expect(text(await store.get(key))).toBe(lines.slice(0, index + 1).join(''));
        }
      }
      await log.close();

      // Assert
      expect(text(await store.get(key))).toBe(lines.join(''));
    });

    it('replaces an existing blob when a log is opened at its key', async () => {
      // Arrange
      const key = freshKey('retried.log');
      await store.put(key, 'output of an earlier attempt\n');

      // Act
      const log = await store.openAppend(key);
      const whileOpen = text(await store.get(key));
      log.append('second attempt\n');
      await log.close();

      // Assert
      expect(whileOpen).toBe('');
      expect(text(await store.get(key))).toBe('second attempt\n');
    });

    it('closes a log once however often close is called, and refuses appends after', async () => {
      // Arrange
      const key = freshKey('closed.log');
      const log = await store.openAppend(key);
      log.append('only line\n');

      // Act
      await Promise.all([log.close(), log.close()]);
      await log.close();
      await log.flush();

      // Assert
      expect(() => log.append('late\n')).toThrow(JobPlaneOperationError);
      expect(text(await store.get(key))).toBe('only line\n');
    });

    it('keeps an empty log as an empty blob', async () => {
      // Arrange
      const key = freshKey('quiet.log');
      const log = await store.openAppend(key);

      // Act
      await log.close();

      // Assert
      expect(text(await store.get(key))).toBe('');
    });

    it('presigns a URL that a plain fetch reads, with the content type of the put', async () => {
      // Arrange
      const key = freshKey('result.json');
      await store.put(key, '{"exitCode":0}', { contentType: 'application/json' });

      // Act
      const response = await fetch(await store.presignGet(key, 60));

      // Assert
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.text()).toBe('{"exitCode":0}');
    });

    it('presigns a URL to a closed log', async () => {
      // Arrange
      const key = freshKey('deploy.log');
      const log = await store.openAppend(key, { contentType: 'text/plain' });
      log.append(Uint8Array.from([0xe2, 0x9c, 0x93, 0x0a]));
      await log.close();

      // Act
      const response = await fetch(await store.presignGet(key));

      // Assert
      expect(response.status).toBe(200);
      expect(Array.from(new Uint8Array(await response.arrayBuffer()))).toEqual([
        0xe2, 0x9c, 0x93, 0x0a,
      ]);
    });

    it('refuses a presign expiry outside 1 second to 7 days', async () => {
      // Arrange
      const key = freshKey('result.json');

      // Act / Assert
      await expect(store.presignGet(key, 0)).rejects.toBeInstanceOf(JobPlaneOperationError);
      await expect(store.presignGet(key, 8 * 24 * 3600)).rejects.toBeInstanceOf(
        JobPlaneOperationError,
      );
    });

    it('names locations as s3://bucket/key', () => {
      // Act / Assert
      expect(store.locationOf('run-1/discovery.json')).toBe(
        `s3://${store.bucket}/run-1/discovery.json`,
      );
    });
  });
}
