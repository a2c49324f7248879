import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { BuildkitTlsFiles } from './buildkit-tls-files.js';
import { BuildkitTlsMaterialError } from './executor-errors.js';
import { makeTempDir, removeTempDir } from './testing/step-requests.js';

const PATHS = { caCertPath: 'tls/ca', clientCertPath: 'tls/cert', clientKeyPath: 'tls/key' };

/** A store that fails the first `failures` reads with `error`, then answers `value-of-<path>`. */
function flakyStore(failures: number, error: Error): SecretStore & { reads: number } {
  const store = {
    reads: 0,
    get: (path: string): Promise<string> => {
      store.reads++;
      return store.reads <= failures ? Promise.reject(error) : Promise.resolve(`value-of-${path}`);
    },
  };
  return store;
}

const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

describe('BuildkitTlsFiles', () => {
  let root: string;

  beforeEach(async () => {
    root = await makeTempDir('tls-files');
  });

  afterEach(async () => {
    await removeTempDir(root);
  });

  it('reports a store failure, retryable when transient, and tries again on the next call', async () => {
    // Arrange
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const store = flakyStore(1, throttled);
    const files = new BuildkitTlsFiles({ store, ...PATHS, directory: join(root, 'tls') });

    // Act
    const first = await files.prepare().catch((error: unknown) => error);
    const second = await files.prepare();

    // Assert
    expect(first).toBeInstanceOf(BuildkitTlsMaterialError);
    expect(first).toMatchObject({ retryable: true });
    expect(String(first)).toContain('cannot read secret tls/');
    expect(await readFile(second.clientKeyFile, 'utf8')).toBe('value-of-tls/key');
  });

  it('makes its own private temp folder when given none, and removes it on close', async () => {
    // Arrange
    const files = new BuildkitTlsFiles({ store: flakyStore(0, new Error('unused')), ...PATHS });

    // Act
    const written = await files.prepare();
    await files.close();
    await files.close();

    // Assert
    expect(dirname(written.configFile)).toMatch(/forge-buildkit-tls-/);
    expect(await exists(dirname(written.configFile))).toBe(false);
    await expect(files.prepare()).rejects.toBeInstanceOf(BuildkitTlsMaterialError);
  });

  it('removes only its files from a configured folder on close', async () => {
    // Arrange
    const directory = join(root, 'tls');
    const files = new BuildkitTlsFiles({
      store: flakyStore(0, new Error('unused')),
      ...PATHS,
      directory,
    });
    const written = await files.prepare();

    // Act
    await files.close();

    // Assert
    expect(await exists(directory)).toBe(true);
    expect(await exists(written.clientKeyFile)).toBe(false);
    expect(await exists(written.configFile)).toBe(false);
  });
});
