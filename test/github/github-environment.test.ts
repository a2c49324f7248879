import { describe, expect, it } from 'vitest';
import { loadGitHubConfig } from '../../config/github-environment.js';

describe('loadGitHubConfig', () => {
  it('defaults to api.github.com, a 60 s rate-limit wait and no credentials', () => {
    expect(loadGitHubConfig({})).toEqual({
      apiUrl: 'https://api.github.com',
      credentials: undefined,
      maxRateLimitWaitMs: 60_000,
      requestTimeoutMs: 10_000,
      statusQueueUrl: undefined,
    });
  });

  it('reads a GitHub Enterprise URL, a token secret and the waits', () => {
    const config = loadGitHubConfig({
      FORGE_GITHUB_API_URL: 'https://github.example.com/api/v3/',
      FORGE_GITHUB_TOKEN_SECRET: 'forge/github-token',
      FORGE_GITHUB_RATE_LIMIT_MAX_WAIT: '2m',
      FORGE_GITHUB_REQUEST_TIMEOUT: '5s',
    });

    expect(config).toMatchObject({
      apiUrl: 'https://github.example.com/api/v3',
      credentials: { kind: 'secret', secretId: 'forge/github-token' },
      maxRateLimitWaitMs: 120_000,
      requestTimeoutMs: 5000,
    });
  });

  it('names a bad or conflicting variable', () => {
    expect(() => loadGitHubConfig({ FORGE_GITHUB_API_URL: 'ftp://github.com' })).toThrow(
      /^FORGE_GITHUB_API_URL: /,
    );
    expect(() => loadGitHubConfig({ FORGE_GITHUB_RATE_LIMIT_MAX_WAIT: '1h' })).toThrow(
      /^FORGE_GITHUB_RATE_LIMIT_MAX_WAIT: /,
    );
    expect(() =>
      loadGitHubConfig({ FORGE_GITHUB_TOKEN: 'ghs_x', FORGE_GITHUB_TOKEN_SECRET: 'forge/token' }),
    ).toThrow(/^FORGE_GITHUB_TOKEN_SECRET: set either/);
  });
});
