import type { StepRunRequest } from './step-executor.js';

/**
 * Variables a step inherits from the worker's own environment, by default: enough for tools to
 * find binaries, a home folder, a locale, a temporary folder, proxies and CA bundles. Nothing
 * else leaks from the worker (its AWS credentials, `FORGE_` settings...).
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/** Where a step's environment comes from. */
export interface StepEnvironmentSources {
  /** The worker's environment (normally `process.env`). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Names taken from `baseEnv`; default {@link DEFAULT_INHERITED_ENV}. */
  readonly inheritedNames?: readonly string[];
  readonly request: Pick<StepRunRequest, 'env' | 'secrets'>;
}

/**
 * The complete environment of a step's process: the inherited names present in `baseEnv`, then
 * the request's `env`, then its resolved secrets (each later source wins on a shared name).
 */
export function buildStepEnvironment(sources: StepEnvironmentSources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of sources.inheritedNames ?? DEFAULT_INHERITED_ENV) {
    const value = sources.baseEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...sources.request.env, ...sources.request.secrets };
}
