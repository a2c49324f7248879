import { ForgeError } from '../errors.js';

/** The root of the GitHub fan-out's errors: none of them ever fails a pipeline. */
export class GitHubError extends ForgeError {}

/**
 * A GitHub API call failed: `status` is the HTTP status (absent for a network failure or a
 * timeout). Retryable for 5xx and network failures; 4xx are not (a bad token, a missing
 * repository, a validation error do not go away by themselves).
 */
export class GitHubRequestError extends GitHubError {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      `GitHub ${operation} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${problem}`,
      {
        ...options,
        retryable: status === undefined || status >= 500,
      },
    );
  }
}

/**
 * GitHub refused a call for its rate limit and names a time to wait that is longer than the
 * caller may wait: trying again after `retryAfterMs` will help.
 */
export class GitHubRateLimitedError extends GitHubError {
  constructor(
    readonly operation: string,
    readonly retryAfterMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(`GitHub ${operation} rate-limited: retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      ...options,
      retryable: true,
    });
  }
}
