import { describe, expect, it } from 'vitest';
import {
  GitCommandError,
  RepositoryCloneError,
  RepositoryFetchError,
  isTransientGitFailure,
} from './repository-cache-errors.js';

const failure = (stderr: string) => new GitCommandError(['fetch', 'origin'], 128, stderr);

describe('git failure classification', () => {
  it('treats network trouble as retryable and wrong URLs or permissions as final', () => {
    expect(
      isTransientGitFailure(failure('fatal: unable to access: Could not resolve host: x')),
    ).toBe(true);
    expect(isTransientGitFailure(failure('error: RPC failed; curl 56 GnuTLS recv error'))).toBe(
      true,
    );
    expect(isTransientGitFailure(failure('fatal: The requested URL returned error: 503'))).toBe(
      true,
    );
    expect(isTransientGitFailure(failure('remote: Repository not found.'))).toBe(false);
    expect(isTransientGitFailure(failure('fatal: Authentication failed for https://x'))).toBe(
      false,
    );
    expect(isTransientGitFailure(failure('fatal: The requested URL returned error: 403'))).toBe(
      false,
    );
  });

  it('puts git’s stderr in the message and keeps the git error as the cause', () => {
    const cause = failure('fatal: early EOF');

    const error = new RepositoryFetchError('https://example.com/r', cause);

    expect(error.message).toBe('cannot fetch https://example.com/r: fatal: early EOF');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(new RepositoryCloneError('u', failure('permission denied')).retryable).toBe(false);
  });
});
