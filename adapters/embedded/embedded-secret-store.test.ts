import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JobPlaneOperationError,
  SecretNotFoundError,
} from '../../core/job-plane/job-plane-errors.js';
import { describeSecretStoreContract } from '../../test/contracts/secret-store.contract.js';
import { EmbeddedSecretStore } from './embedded-secret-store.js';

describeSecretStoreContract('EmbeddedSecretStore', () => {
  const store = new EmbeddedSecretStore();
  return Promise.resolve({
    store,
    putSecret: (path: string, value: string) => Promise.resolve(store.set(path, value)),
  });
});

describe('EmbeddedSecretStore.fromFile', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'forge-secrets-'));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function secretsFile(name: string, content: string): Promise<string> {
    const path = join(folder, name);
    await writeFile(path, content);
    return path;
  }

  it('reads secrets from a JSON object of path to value', async () => {
    // Arrange
    const path = await secretsFile(
      'secrets.json',
      JSON.stringify({ 'forge/ci/npm-token': 'npm_abc', 'forge/ci/db': '{"user":"ci"}' }),
    );

    // Act
    const store = await EmbeddedSecretStore.fromFile(path);

    // Assert
    expect(await store.get('forge/ci/npm-token')).toBe('npm_abc');
    expect(await store.get('forge/ci/db')).toBe('{"user":"ci"}');
    await expect(store.get('forge/ci/other')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it.each([
    ['a value that is not a string', '{"forge/ci/port": 5432}', /at "forge\/ci\/port"/],
    ['an array', '["npm_abc"]', /expected an object/],
    ['text that is not JSON', '{"forge/ci/token": "npm_s3cr3t"', /not valid JSON/],
  ])('refuses a file holding %s, naming the file', async (_label, content, reason) => {
    // Arrange
    const path = await secretsFile('bad.json', content);

    // Act
    const failure: unknown = await EmbeddedSecretStore.fromFile(path).catch(
      (error: unknown) => error,
    );

    // Assert
    expect(failure).toBeInstanceOf(JobPlaneOperationError);
    expect((failure as Error).message).toContain(path);
    expect((failure as Error).message).toMatch(reason);
    expect((failure as Error).message).not.toContain('s3cr3t');
  });

  it('refuses a file that does not exist', async () => {
    // Act / Assert
    await expect(EmbeddedSecretStore.fromFile(join(folder, 'absent.json'))).rejects.toBeInstanceOf(
      JobPlaneOperationError,
    );
  });
});
