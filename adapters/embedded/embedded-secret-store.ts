import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import {
  JobPlaneOperationError,
  SecretNotFoundError,
} from '../../core/job-plane/job-plane-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';

const secretsFileSchema = z.record(z.string().min(1), z.string());

/**
 * The {@link SecretStore} of the embedded mode and of tests: secrets held in memory by path.
 * Load them from a JSON file with {@link EmbeddedSecretStore.fromFile}, or pass them in.
 */
export class EmbeddedSecretStore implements SecretStore {
  readonly #secrets: Map<string, string>;

  /** Copies `secrets` (path to value). */
  constructor(secrets: ReadonlyMap<string, string> | Readonly<Record<string, string>> = {}) {
    this.#secrets = new Map<string, string>(
      secrets instanceof Map ? secrets : Object.entries(secrets),
    );
  }

  /**
   * Reads a JSON file holding one object whose keys are secret paths and whose values are the
   * secrets' text, e.g. `{ "forge/ci/npm-token": "npm_abc", "forge/ci/db": "{\"user\":\"ci\"}" }`
   * (a structured secret is a string holding JSON, as in Secrets Manager). A missing file, bad
   * JSON or a non-string value is a `JobPlaneOperationError` naming the file. The file is read
   * once; keep it out of version control.
   */
  static async fromFile(path: string): Promise<EmbeddedSecretStore> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new JobPlaneOperationError('readSecretsFile', path, errorMessage(error), {
        cause: error,
      });
    }
    let parsed: z.ZodSafeParseResult<Record<string, string>>;
    try {
      parsed = secretsFileSchema.safeParse(JSON.parse(text));
    } catch {
      // JSON.parse quotes the text around the mistake, which may be a secret: say no more.
      throw new JobPlaneOperationError('readSecretsFile', path, 'the file is not valid JSON');
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at "${issue.path.join('.')}"` : '';
      throw new JobPlaneOperationError(
        'readSecretsFile',
        path,
        `expected an object of path to string value${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return new EmbeddedSecretStore(parsed.data);
  }

  get(path: string): Promise<string> {
    const value = this.#secrets.get(path);
    return value === undefined
      ? Promise.reject(new SecretNotFoundError(path))
      : Promise.resolve(value);
  }

  /** Creates or replaces the secret at `path` (tests, embedded tooling). */
  set(path: string, value: string): void {
    this.#secrets.set(path, value);
  }
}
