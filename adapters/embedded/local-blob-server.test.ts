import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobFolder } from './blob-folder.js';
import { createBlobRequestHandler } from './blob-request-handler.js';
import { BlobUrlSigner } from './blob-url-signer.js';
import { BlobWriter } from './blob-writer.js';
import { EmbeddedBlobStore } from './embedded-blob-store.js';
import { LocalBlobServer } from './local-blob-server.js';

const bucket = 'pipeline-logs';
const key = 'run-1/build/api server/compile ✓.log';

describe('LocalBlobServer', () => {
  let root: string;
  let now: number;
  let server: LocalBlobServer;
  let store: EmbeddedBlobStore;
  let writer: BlobWriter;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'forge-blob-server-'));
    now = Date.parse('2030-01-01T00:00:00Z');
    server = await LocalBlobServer.start({ root, now: () => now });
    writer = new BlobWriter(root);
    store = new EmbeddedBlobStore({ root, bucket, presigner: server, writer });
    await store.put(key, 'compiled\n', { contentType: 'text/plain; charset=utf-8' });
  });

  afterAll(async () => {
    await Promise.all([server.close(), writer.close()]);
    await rm(root, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only', () => {
    // Act / Assert
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
  });

  it('serves a presigned blob with its content type and length', async () => {
    // Act
    const response = await fetch(await store.presignGet(key, 60));

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-length')).toBe('9');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe('compiled\n');
  });

  it("records no metadata for a blob whose key's extension says its content type", async () => {
    // Arrange
    const results = new EmbeddedBlobStore({
      root,
      bucket: 'typed-results',
      presigner: server,
      writer,
    });

    // Act
    await results.put('run-1/phases/build/api/compile.json', '{}', {
      contentType: 'application/json',
    });
    const response = await fetch(await results.presignGet('run-1/phases/build/api/compile.json'));

    // Assert
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(readdir(join(root, '.metadata', 'typed-results'))).rejects.toThrow(/ENOENT/);
  });

  it('records a content type the key does not say, and forgets it once a put says what the key says', async () => {
    // Arrange
    const typedKey = 'run-1/build/api/report.log';
    const served = async (): Promise<string | null> =>
      (await fetch(await store.presignGet(typedKey))).headers.get('content-type');

    // Act
    await store.put(typedKey, '<p>ok</p>', { contentType: 'text/html' });
    const recorded = await served();
    await store.put(typedKey, 'ok\n', { contentType: 'text/plain; charset=utf-8' });
    const inferred = await served();
    await store.put(typedKey, 'ok\n');
    const untyped = await served();

    // Assert
    expect(recorded).toBe('text/html');
    expect(inferred).toBe('text/plain; charset=utf-8');
    expect(untyped).toBe('application/octet-stream');
  });

  it('answers HEAD with the headers only', async () => {
    // Act
    const response = await fetch(await store.presignGet(key, 60), { method: 'HEAD' });

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('9');
    expect(await response.text()).toBe('');
  });

  it('refuses an expired URL with 403', async () => {
    // Arrange
    const url = await store.presignGet(key, 60);

    // Act
    now += 61_000;
    const response = await fetch(url);
    now -= 61_000;

    // Assert
    expect(response.status).toBe(403);
  });

  it.each([
    ['a changed signature', (url: URL) => url.searchParams.set('signature', 'AAAA')],
    ['a later expiry', (url: URL) => url.searchParams.set('expires', '9999999999')],
    ['another key', (url: URL) => (url.pathname = url.pathname.replace('compile', 'deploy'))],
    ['another bucket', (url: URL) => (url.pathname = url.pathname.replace(bucket, 'other-bucket'))],
    ['no signature', (url: URL) => url.searchParams.delete('signature')],
  ])('refuses a URL with %s with 403', async (_label, tamper) => {
    // Arrange
    const url = new URL(await store.presignGet(key, 60));
    tamper(url);

    // Act
    const response = await fetch(url);

    // Assert
    expect(response.status).toBe(403);
  });

  it('refuses a URL signed by another process with 403', async () => {
    // Arrange
    const other = new BlobUrlSigner({ now: () => now });

    // Act
    const response = await fetch(`${server.url}${other.signedPath(bucket, key, 60)}`);

    // Assert
    expect(response.status).toBe(403);
  });

  it('answers 404 for a signed URL of a blob that does not exist, or a foreign path', async () => {
    // Act
    const missing = await fetch(await store.presignGet('run-1/missing.log', 60));
    const foreign = await fetch(`${server.url}/v1/runs`);

    // Assert
    expect(missing.status).toBe(404);
    expect(foreign.status).toBe(404);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    // Act
    const response = await fetch(await store.presignGet(key, 60), { method: 'DELETE' });

    // Assert
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('closes idempotently', async () => {
    // Arrange
    const extra = await LocalBlobServer.start({ root });

    // Act
    await Promise.all([extra.close(), extra.close()]);
    await extra.close();

    // Assert
    await expect(fetch(`${extra.url}/blobs/x`)).rejects.toThrow();
  });

  it('exports a handler that another server can mount at /blobs/', async () => {
    // Arrange
    const signer = new BlobUrlSigner();
    const blobs = createBlobRequestHandler({ folder: new BlobFolder(root), signer });
    const host = createServer((request, response) => {
      if (request.url?.startsWith('/blobs/')) void blobs(request, response);
      else response.writeHead(200).end('api');
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;

    try {
      // Act
      const blob = await fetch(`${base}${signer.signedPath(bucket, key, 60)}`);
      const api = await fetch(`${base}/healthz`);

      // Assert
      expect(await blob.text()).toBe('compiled\n');
      expect(await api.text()).toBe('api');
    } finally {
      await new Promise((resolve) => host.close(resolve));
    }
  });
});
