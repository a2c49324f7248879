import type { GitHubConfig } from '../../config/github-environment.js';
import { GitHubError } from '../../core/github/github-errors.js';
import type { FanOutLogger } from '../../core/github/status-fan-out.js';
import { CachingSecretStore } from '../../core/job-plane/caching-secret-store.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { OctokitGitHubReporter } from './octokit-github-reporter.js';

/** What {@link createGitHubReporter} needs beyond the configuration. */
export interface GitHubReporterDependencies {
  /** Where `FORGE_GITHUB_TOKEN_SECRET` is read (Secrets Manager in Lambda). */
  readonly secretStore?: SecretStore;
  readonly logger?: FanOutLogger;
}

/**
 * The GitHub reporter that `config` describes, or `undefined` when it names no credentials (the
 * fan-out is then off). A token secret is read through a five-minute cache, so a rotated token
 * is used within minutes; the secret holds the token itself, or JSON with a `token` field.
 */
export function createGitHubReporter(
  config: GitHubConfig,
  dependencies: GitHubReporterDependencies = {},
): OctokitGitHubReporter | undefined {
  const credentials = config.credentials;
  if (credentials === undefined) return undefined;
  let token: () => Promise<string>;
  if (credentials.kind === 'token') {
    token = () => Promise.resolve(credentials.token);
  } else {
    const { secretStore } = dependencies;
    if (secretStore === undefined) {
      throw new GitHubError('a secret store is required to read FORGE_GITHUB_TOKEN_SECRET');
    }
    const cached = new CachingSecretStore({ store: secretStore });
    token = async () => tokenOf(await cached.get(credentials.secretId));
  }
  return new OctokitGitHubReporter({
    token,
    baseUrl: config.apiUrl,
    maxRateLimitWaitMs: config.maxRateLimitWaitMs,
    requestTimeoutMs: config.requestTimeoutMs,
    logger: dependencies.logger,
  });
}

function tokenOf(secret: string): string {
  const text = secret.trim();
  if (!text.startsWith('{')) return text;
  let parsed: { token?: unknown } | undefined;
  try {
    parsed = JSON.parse(text) as { token?: unknown };
  } catch {
    // The parser's message would quote the secret.
    parsed = undefined;
  }
  if (typeof parsed?.token !== 'string') {
    throw new GitHubError('the GitHub token secret is neither a token nor JSON with a token');
  }
  return parsed.token;
}
