import { describe, expect, it } from 'vitest';
import { EmbeddedSecretStore } from '../../adapters/embedded/embedded-secret-store.js';
import { createGitHubReporter } from '../../adapters/github/create-github-reporter.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { commitStatusFor } from '../../core/github/commit-status.js';
import { GitHubError } from '../../core/github/github-errors.js';
import {
  COMMIT_SHA,
  REPOSITORY,
  statusEvent,
} from '../../core/github/testing/status-event-fixture.js';
import { LocalGitHub } from './local-github-server.js';

const secretStore = new EmbeddedSecretStore({
  'forge/github-token': 'ghs_plainsecret\n',
  'forge/github-app': '{"token": "ghs_fromjson", "note": "minted by the platform"}',
  'forge/broken': '{"token": ',
});

describe('createGitHubReporter', () => {
  it('is off without credentials', () => {
    expect(createGitHubReporter(loadGitHubConfig({}))).toBeUndefined();
  });

  it.each([
    ['forge/github-token', 'token ghs_plainsecret'],
    ['forge/github-app', 'token ghs_fromjson'],
  ])('reads the token from secret %s', async (secretId, authorization) => {
    const github = await LocalGitHub.start();
    const config = loadGitHubConfig({
      FORGE_GITHUB_API_URL: github.url,
      FORGE_GITHUB_TOKEN_SECRET: secretId,
    });
    const reporter = createGitHubReporter(config, { secretStore });

    await reporter?.setCommitStatus(REPOSITORY, COMMIT_SHA, commitStatusFor(statusEvent()));

    expect(github.statusRequests().map((request) => request.authorization)).toEqual([
      authorization,
    ]);
  });

  it('refuses a secret that holds neither a token nor JSON with one, without quoting it', async () => {
    const github = await LocalGitHub.start();
    const config = loadGitHubConfig({
      FORGE_GITHUB_API_URL: github.url,
      FORGE_GITHUB_TOKEN_SECRET: 'forge/broken',
    });
    const reporter = createGitHubReporter(config, { secretStore });

    const failure = reporter?.setCommitStatus(
      REPOSITORY,
      COMMIT_SHA,
      commitStatusFor(statusEvent()),
    );

    await expect(failure).rejects.toBeInstanceOf(GitHubError);
    await expect(failure).rejects.not.toThrow(/token": /);
    expect(github.requests).toHaveLength(0);
  });
});
