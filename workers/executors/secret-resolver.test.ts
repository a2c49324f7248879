import { describe, expect, it } from 'vitest';
import { SecretNotFoundError } from '../../core/job-plane/job-plane-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import {
  SecretEnvConflictError,
  SecretProviderUnknownError,
  StepSecretNotFoundError,
  StepSecretUnavailableError,
} from './executor-errors.js';
import { StepSecretResolver, defaultSecretEnvName } from './secret-resolver.js';
import { shellStep } from './testing/step-requests.js';

/** A store holding `values`; a missing path is `SecretNotFoundError`, as the port says. */
function storeOf(values: Record<string, string>): SecretStore {
  return {
    get: (path) =>
      path in values
        ? Promise.resolve(values[path] ?? '')
        : Promise.reject(new SecretNotFoundError(path)),
  };
}

describe('StepSecretResolver', () => {
  it('resolves secrets from each provider into their environment variables', async () => {
    // Arrange
    const resolver = new StepSecretResolver({
      providers: {
        aws: storeOf({ 'ci/npm-token': 'npm-123' }),
        embedded: storeOf({ db: 'pw-456' }),
      },
    });
    const step = shellStep('true', {
      secrets: [
        { provider: 'aws', path: 'ci/npm-token' },
        { provider: 'embedded', path: 'db', env: 'DATABASE_PASSWORD' },
      ],
    });

    // Act
    const secrets = await resolver.resolve(step);

    // Assert
    expect(secrets).toEqual({ CI_NPM_TOKEN: 'npm-123', DATABASE_PASSWORD: 'pw-456' });
  });

  it('derives the default variable name from the path', () => {
    // Act / Assert
    expect(defaultSecretEnvName('ci/npm-token')).toBe('CI_NPM_TOKEN');
    expect(defaultSecretEnvName('arn:aws:secretsmanager:eu-west-1:1:secret:x.y')).toBe(
      'ARN_AWS_SECRETSMANAGER_EU_WEST_1_1_SECRET_X_Y',
    );
    expect(defaultSecretEnvName('1password/key')).toBe('_1PASSWORD_KEY');
  });

  it('names step, provider and path of an unknown provider, not retryable', async () => {
    // Arrange
    const resolver = new StepSecretResolver({ providers: { aws: storeOf({}) } });
    const step = shellStep('true', {
      name: 'publish',
      secrets: [{ provider: 'vault', path: 'ci/token' }],
    });

    // Act
    const failure = resolver.resolve(step);

    // Assert
    await expect(failure).rejects.toBeInstanceOf(SecretProviderUnknownError);
    await expect(failure).rejects.toMatchObject({
      retryable: false,
      message: "step publish: secret ci/token names unknown provider 'vault' (configured: aws)",
    });
  });

  it('names step, provider and path of a missing secret, not retryable', async () => {
    // Arrange
    const resolver = new StepSecretResolver({ providers: { aws: storeOf({}) } });
    const step = shellStep('true', {
      name: 'publish',
      secrets: [{ provider: 'aws', path: 'ci/gone' }],
    });

    // Act
    const failure = resolver.resolve(step);

    // Assert
    await expect(failure).rejects.toBeInstanceOf(StepSecretNotFoundError);
    await expect(failure).rejects.toMatchObject({
      retryable: false,
      message: "step publish: secret ci/gone not found in provider 'aws'",
    });
  });

  it('wraps other store failures, retryable when the cause is transient', async () => {
    // Arrange
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const resolver = new StepSecretResolver({
      providers: { aws: { get: () => Promise.reject(throttled) } },
    });
    const step = shellStep('true', { secrets: [{ provider: 'aws', path: 'ci/token' }] });

    // Act
    const failure = resolver.resolve(step);

    // Assert
    await expect(failure).rejects.toBeInstanceOf(StepSecretUnavailableError);
    await expect(failure).rejects.toMatchObject({ retryable: true, cause: throttled });
  });

  it('refuses two secrets that land in the same variable', async () => {
    // Arrange
    const resolver = new StepSecretResolver({
      providers: { aws: storeOf({ 'a/b': '1', 'a-b': '2' }) },
    });
    const step = shellStep('true', {
      secrets: [
        { provider: 'aws', path: 'a/b' },
        { provider: 'aws', path: 'a-b' },
      ],
    });

    // Act / Assert
    await expect(resolver.resolve(step)).rejects.toBeInstanceOf(SecretEnvConflictError);
  });

  it('resolves a step without secrets to nothing', async () => {
    // Arrange
    const resolver = new StepSecretResolver({ providers: {} });

    // Act
    const secrets = await resolver.resolve(shellStep('true'));

    // Assert
    expect(secrets).toEqual({});
  });
});
