/**
 * Step execution: the executors of `shell` and `earthly` steps, the BuildKit runner pool and
 * TLS files they use, and the secret resolver and masker. Import from here, not from the files.
 */
export * from './step-executor.js';
export * from './executor-errors.js';
export { ShellExecutor, type ShellExecutorOptions } from './shell-executor.js';
export {
  EarthlyExecutor,
  type BuildkitRunnerSource,
  type EarthlyExecutorOptions,
} from './earthly-executor.js';
export { RoutingStepExecutor, type StepExecutorsByAction } from './routing-step-executor.js';
export {
  BuildkitRunnerPool,
  DEFAULT_COOL_DOWN_MS,
  DEFAULT_FAILURE_THRESHOLD,
  RunnerCircuit,
  type BuildkitRunnerPoolOptions,
  type RunnerLease,
  type RunnerState,
  type RunnerVerdict,
} from './buildkit-runner-pool.js';
export {
  BuildkitTlsFiles,
  type BuildkitTlsConfig,
  type BuildkitTlsFilesOptions,
  type BuildkitTlsSource,
} from './buildkit-tls-files.js';
export {
  DEFAULT_EARTHLY_FAILURE_RULES,
  classifyEarthlyFailure,
  type EarthlyFailure,
  type EarthlyFailureRules,
} from './earthly-failure-classifier.js';
export { EARTHLY_BINARY_NAMES, findEarthlyBinary } from './earthly-binary.js';
export {
  StepSecretResolver,
  defaultSecretEnvName,
  type StepSecretResolverOptions,
} from './secret-resolver.js';
export {
  DEFAULT_MIN_SECRET_LENGTH,
  SECRET_MASK,
  SecretMasker,
  type MaskingStream,
  type SecretMaskerOptions,
} from './secret-masker.js';
export { DEFAULT_INHERITED_ENV } from './step-environment.js';
export { DEFAULT_KILL_GRACE_MS } from './process-group.js';
