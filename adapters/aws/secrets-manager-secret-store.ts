import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  JobPlaneOperationError,
  SecretNotFoundError,
} from '../../core/job-plane/job-plane-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import type { RetryOptions } from '../../core/retry.js';
import { callAws, hasErrorName } from './aws-operation.js';

/** Options of {@link SecretsManagerSecretStore}. */
export interface SecretsManagerSecretStoreOptions {
  /** Built with `sdkClientConfig` (SDK retries off: this store retries). */
  readonly client: SecretsManagerClient;
  /** How transient failures (5xx, throttling, network) are retried; core `retry`'s defaults. */
  readonly retry?: RetryOptions;
}

/**
 * The {@link SecretStore} on AWS Secrets Manager: `get(path)` is `GetSecretValue` with the path
 * as `SecretId` (a name or an ARN), answering the current version's `SecretString`, or its
 * `SecretBinary` decoded as UTF-8. A missing secret is `SecretNotFoundError`; every other
 * failure a `JobPlaneOperationError` (`secretsmanager:GetSecretValue` on the path), retried
 * first when transient. Values appear in no error. Wrap it in `CachingSecretStore`.
 */
export class SecretsManagerSecretStore implements SecretStore {
  readonly #client: SecretsManagerClient;
  readonly #retry: RetryOptions | undefined;

  constructor(options: SecretsManagerSecretStoreOptions) {
    this.#client = options.client;
    this.#retry = options.retry;
  }

  async get(path: string): Promise<string> {
    const operation = 'secretsmanager:GetSecretValue';
    const secret = await callAws(
      operation,
      path,
      async () => {
        try {
          return await this.#client.send(new GetSecretValueCommand({ SecretId: path }));
        } catch (error) {
          if (hasErrorName(error, 'ResourceNotFoundException')) return undefined;
          throw error;
        }
      },
      this.#retry,
    );
    if (secret === undefined) throw new SecretNotFoundError(path);
    if (secret.SecretString !== undefined) return secret.SecretString;
    if (secret.SecretBinary !== undefined) return new TextDecoder().decode(secret.SecretBinary);
    throw new JobPlaneOperationError(
      operation,
      path,
      'the secret has neither a string nor a binary value',
    );
  }
}
