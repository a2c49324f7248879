import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  JobPlaneOperationError,
  SecretNotFoundError,
} from '../../core/job-plane/job-plane-errors.js';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store.js';

const path = 'forge/ci/npm-token';
const fastRetry = { maxAttempts: 3, sleep: () => Promise.resolve() };

/** A Secrets Manager error as the SDK raises it. */
function serviceError(name: string, httpStatusCode: number): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name,
    message: `${name} happened`,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

describe('SecretsManagerSecretStore error handling', () => {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const secrets = mockClient(client);
  const store = new SecretsManagerSecretStore({ client, retry: fastRetry });

  beforeEach(() => {
    secrets.reset();
  });

  it('decodes a SecretBinary as UTF-8', async () => {
    // Arrange
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new TextEncoder().encode('binär ✓') });

    // Act / Assert
    expect(await store.get(path)).toBe('binär ✓');
  });

  it('maps ResourceNotFoundException to SecretNotFoundError without retrying', async () => {
    // Arrange
    secrets.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act / Assert
    await expect(store.get(path)).rejects.toSatisfy(
      (error) => error instanceof SecretNotFoundError && error.path === path,
    );
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    ['InternalServiceError (500)', serviceError('InternalServiceError', 500)],
    ['ThrottlingException (400)', serviceError('ThrottlingException', 400)],
    ['ServiceUnavailable (503)', serviceError('ServiceUnavailable', 503)],
  ])('retries %s, then answers the secret', async (_label, error) => {
    // Arrange
    secrets.on(GetSecretValueCommand).rejectsOnce(error).resolves({ SecretString: 'npm_abc' });

    // Act / Assert
    expect(await store.get(path)).toBe('npm_abc');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    ['AccessDeniedException (400)', serviceError('AccessDeniedException', 400)],
    ['ExpiredTokenException (400)', serviceError('ExpiredTokenException', 400)],
    ['DecryptionFailure (400)', serviceError('DecryptionFailure', 400)],
  ])('surfaces %s at once, naming the operation and the secret', async (_label, error) => {
    // Arrange
    secrets.on(GetSecretValueCommand).rejects(error);

    // Act
    const failure: unknown = await store.get(path).catch((thrown: unknown) => thrown);

    // Assert
    expect(failure).toBeInstanceOf(JobPlaneOperationError);
    expect(failure).toMatchObject({
      operation: 'secretsmanager:GetSecretValue',
      resource: path,
      retryable: false,
      cause: error,
    });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('throws the last transient failure, marked retryable, when attempts run out', async () => {
    // Arrange
    secrets.on(GetSecretValueCommand).rejects(serviceError('InternalServiceError', 500));

    // Act / Assert
    await expect(store.get(path)).rejects.toMatchObject({ retryable: true });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(fastRetry.maxAttempts);
  });

  it('refuses a secret that holds no value', async () => {
    // Arrange
    secrets.on(GetSecretValueCommand).resolves({ Name: path });

    // Act / Assert
    await expect(store.get(path)).rejects.toThrow(/neither a string nor a binary value/);
  });
});
