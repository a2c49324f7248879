import type { Step } from '../../core/contracts/discovery-output.js';
import { SecretNotFoundError } from '../../core/job-plane/job-plane-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { isTransientError } from '../../core/retry.js';
import {
  SecretEnvConflictError,
  SecretProviderUnknownError,
  StepSecretNotFoundError,
  StepSecretUnavailableError,
} from './executor-errors.js';

/** Options of a {@link StepSecretResolver}. */
export interface StepSecretResolverOptions {
  /** One store per provider name a step may use (`aws`, `embedded`, ...). */
  readonly providers: Readonly<Record<string, SecretStore>>;
}

/** The environment variable a secret lands in when its reference names none. */
export function defaultSecretEnvName(path: string): string {
  const name = path.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/**
 * Resolves a step's `secrets` into `{ ENV_NAME: value }` through the configured providers, all
 * of them concurrently. A reference's `env` names its variable; without one, the path upper-cased
 * with every other character than A-Z and 0-9 turned into `_` (`ci/npm-token` → `CI_NPM_TOKEN`,
 * prefixed with `_` if it would start with a digit).
 *
 * Errors name the step, the provider and the path, never a value: an unknown provider
 * ({@link SecretProviderUnknownError}), a missing secret ({@link StepSecretNotFoundError}) and
 * two secrets on one variable ({@link SecretEnvConflictError}) are not retryable; any other
 * store failure is {@link StepSecretUnavailableError}, retryable when its cause is transient.
 * The caller fails the task with the error's message.
 */
export class StepSecretResolver {
  private readonly providers: ReadonlyMap<string, SecretStore>;

  constructor(options: StepSecretResolverOptions) {
    this.providers = new Map(Object.entries(options.providers));
  }

  async resolve(step: Pick<Step, 'name' | 'secrets'>): Promise<Record<string, string>> {
    const targets = new Map<string, string>();
    const lookups = step.secrets.map((reference) => {
      const envName = reference.env ?? defaultSecretEnvName(reference.path);
      const earlier = targets.get(envName);
      if (earlier !== undefined) {
        throw new SecretEnvConflictError(step.name, envName, [earlier, reference.path]);
      }
      targets.set(envName, reference.path);
      const store = this.providers.get(reference.provider);
      if (store === undefined) {
        throw new SecretProviderUnknownError(step.name, reference.provider, reference.path, [
          ...this.providers.keys(),
        ]);
      }
      return { envName, reference, store };
    });
    const values = await Promise.all(
      lookups.map(async ({ envName, reference, store }) => {
        try {
          return [envName, await store.get(reference.path)] as const;
        } catch (error) {
          if (error instanceof SecretNotFoundError) {
            throw new StepSecretNotFoundError(step.name, reference.provider, reference.path, {
              cause: error,
            });
          }
          throw new StepSecretUnavailableError(step.name, reference.provider, reference.path, {
            cause: error,
            retryable: isTransientError(error),
          });
        }
      }),
    );
    return Object.fromEntries(values);
  }
}
