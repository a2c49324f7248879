import { z } from 'zod';
import { durationSeconds } from '../core/duration.js';
import { ConfigurationError, parseEnvironment } from './environment.js';

/**
 * The `FORGE_` variables of the GitHub status fan-out; docs/configuration.md documents each.
 * GitHub App installation tokens need `@octokit/auth-app`, which this build does not ship: the
 * fan-out takes a token (a fine-grained token or an installation token minted elsewhere), given
 * directly or as a Secrets Manager secret, read again as the secret cache expires.
 */
export const GitHubEnvironmentSchema = z.object({
  FORGE_GITHUB_API_URL: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, ''))
    .default('https://api.github.com'),
  FORGE_GITHUB_TOKEN: z.string().min(1).optional(),
  FORGE_GITHUB_TOKEN_SECRET: z.string().min(1).optional(),
  FORGE_GITHUB_RATE_LIMIT_MAX_WAIT: durationSeconds
    .refine((seconds) => seconds <= 900, 'must be at most 15m')
    .default(60),
  FORGE_GITHUB_REQUEST_TIMEOUT: durationSeconds
    .refine((seconds) => seconds <= 60, 'must be at most 60s')
    .default(10),
  FORGE_GITHUB_STATUS_QUEUE_URL: z.url({ protocol: /^https?$/ }).optional(),
});

/** Where the fan-out's GitHub token comes from; absent when the fan-out is off. */
export type GitHubCredentials =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'secret'; readonly secretId: string };

/** The GitHub fan-out's settings, defaults applied. */
export interface GitHubConfig {
  readonly apiUrl: string;
  readonly credentials: GitHubCredentials | undefined;
  readonly maxRateLimitWaitMs: number;
  readonly requestTimeoutMs: number;
  /** The SQS queue status events go to on AWS (the reconciler's sink, the fan-out's source). */
  readonly statusQueueUrl: string | undefined;
}

/** Reads the GitHub variables once; a bad value is a `ConfigurationError` naming it. */
export function loadGitHubConfig(env: NodeJS.ProcessEnv = process.env): GitHubConfig {
  const parsed = parseEnvironment(GitHubEnvironmentSchema, env);
  if (parsed.FORGE_GITHUB_TOKEN !== undefined && parsed.FORGE_GITHUB_TOKEN_SECRET !== undefined) {
    throw new ConfigurationError(
      'FORGE_GITHUB_TOKEN_SECRET',
      'set either it or FORGE_GITHUB_TOKEN, not both',
    );
  }
  const credentials: GitHubCredentials | undefined =
    parsed.FORGE_GITHUB_TOKEN !== undefined
      ? { kind: 'token', token: parsed.FORGE_GITHUB_TOKEN }
      : parsed.FORGE_GITHUB_TOKEN_SECRET !== undefined
        ? { kind: 'secret', secretId: parsed.FORGE_GITHUB_TOKEN_SECRET }
        : undefined;
  return {
    apiUrl: parsed.FORGE_GITHUB_API_URL,
    credentials,
    maxRateLimitWaitMs: parsed.FORGE_GITHUB_RATE_LIMIT_MAX_WAIT * 1000,
    requestTimeoutMs: parsed.FORGE_GITHUB_REQUEST_TIMEOUT * 1000,
    statusQueueUrl: parsed.FORGE_GITHUB_STATUS_QUEUE_URL,
  };
}
