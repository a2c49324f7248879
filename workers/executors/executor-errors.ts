import { ForgeError, errorMessage } from '../../core/errors.js';

/**
 * The root of every error the step executors raise. An executor reports a step that failed on
 * its own merits as a `StepRunResult`; it throws one of these only when it could not even try
 * (bad options, no Earthly binary, a secret that cannot be resolved, a process that cannot start).
 */
export class StepExecutorError extends ForgeError {}

/** Options given to an executor, the runner pool or the masker are unusable; names the option. */
export class StepExecutorOptionsError extends StepExecutorError {}

/**
 * A step reached an executor that cannot run its action: a `shell` step handed to the Earthly
 * executor, or an `earthly` step on a worker configured without BuildKit runners. `where` says
 * which (`the shell executor`, `this worker`).
 */
export class StepActionUnsupportedError extends StepExecutorError {
  constructor(
    readonly stepName: string,
    readonly action: string,
    readonly where: string,
  ) {
    super(`step ${stepName}: ${where} cannot run '${action}' steps`);
  }
}

/** A step names a secret provider that this worker has no store for. Never retryable. */
export class SecretProviderUnknownError extends StepExecutorError {
  constructor(
    readonly stepName: string,
    readonly provider: string,
    readonly path: string,
    readonly knownProviders: readonly string[],
  ) {
    const known = knownProviders.length === 0 ? 'none' : knownProviders.join(', ');
    super(
      `step ${stepName}: secret ${path} names unknown provider '${provider}' (configured: ${known})`,
    );
  }
}

/** A step's secret does not exist in its provider. Never retryable. */
export class StepSecretNotFoundError extends StepExecutorError {
  constructor(
    readonly stepName: string,
    readonly provider: string,
    readonly path: string,
    options: { cause?: unknown } = {},
  ) {
    super(`step ${stepName}: secret ${path} not found in provider '${provider}'`, options);
  }
}

/** Reading a step's secret failed for another reason; retryable when the cause is transient. */
export class StepSecretUnavailableError extends StepExecutorError {
  constructor(
    readonly stepName: string,
    readonly provider: string,
    readonly path: string,
    options: { cause: unknown; retryable: boolean },
  ) {
    super(
      `step ${stepName}: secret ${path} from provider '${provider}' could not be read: ${errorMessage(options.cause)}`,
      options,
    );
  }
}

/** Two of a step's secrets would land in the same environment variable. Never retryable. */
export class SecretEnvConflictError extends StepExecutorError {
  constructor(
    readonly stepName: string,
    readonly envName: string,
    readonly paths: readonly [string, string],
  ) {
    super(
      `step ${stepName}: secrets ${paths[0]} and ${paths[1]} both map to environment variable ${envName}; set 'env' on one of them`,
    );
  }
}

/** The step's process could not be started (missing working folder, unexecutable binary...). */
export class StepProcessStartError extends StepExecutorError {
  constructor(
    readonly file: string,
    readonly cwd: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`cannot start ${file} in ${cwd}: ${reason}`, options);
  }
}

/** Neither the configured Earthly binary nor `earthly`/`earth` on PATH exists. Never retryable. */
export class EarthlyBinaryNotFoundError extends StepExecutorError {
  constructor(readonly searched: readonly string[]) {
    super(
      `no Earthly CLI found: looked for ${searched.join(', ')}; install Earthly or EarthBuild ('earth') or configure the binary`,
    );
  }
}

/** The BuildKit client certificates could not be read from the secret store or written to disk. */
export class BuildkitTlsMaterialError extends StepExecutorError {
  constructor(reason: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(`BuildKit TLS material unavailable: ${reason}`, options);
  }
}

/**
 * No BuildKit runner can take a step: every runner's circuit is open (or the only candidates
 * were excluded, e.g. the runner that just failed). Retryable: circuits close after cool-down.
 */
export class BuildkitRunnersUnavailableError extends StepExecutorError {
  constructor(
    readonly detail: string,
    readonly retryInMs: number | undefined,
  ) {
    const when =
      retryInMs === undefined
        ? ''
        : `; the next runner half-opens in ${Math.ceil(retryInMs / 1000)} s`;
    super(`no BuildKit runner available: ${detail}${when}`, { retryable: true });
  }
}
