import { describe, expect, it } from 'vitest';
import {
  CreateRunRequestSchema,
  ERROR_HTTP_STATUS,
  ErrorBodySchema,
  ErrorCode,
  ListRunsQuerySchema,
  UpdateStepStatusRequestSchema,
  UpdateTaskStatusRequestSchema,
  errorBody,
  validationErrorBody,
} from './api.js';

const sha1 = '0123456789abcdef0123456789abcdef01234567';

function issuePaths(result: { error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

describe('CreateRunRequestSchema', () => {
  it('applies the defaults to a minimal request', () => {
    // Act
    const parsed = CreateRunRequestSchema.parse({ repository: 'acme/monorepo', commit_sha: sha1 });

    // Assert
    expect(parsed).toEqual({ repository: 'acme/monorepo', commit_sha: sha1, trigger_type: 'push' });
  });

  it('accepts the body GitHub Actions sends, and lower-cases the commit', () => {
    // Arrange
    const body = {
      repository: 'acme/mono.repo_2',
      commit_sha: 'ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789',
      branch: 'feature/login-v2',
      trigger_type: 'pull_request',
      github_context: { pr_number: 42, run_id: '5678901234', check_run_id: '987654321' },
    };

    // Act
    const parsed = CreateRunRequestSchema.parse(body);

    // Assert
    expect(parsed.commit_sha).toBe(
      'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
    );
    expect(parsed.github_context).toEqual({
      pr_number: 42,
      run_id: '5678901234',
      check_run_id: '987654321',
      context: 'ci/catalyst-forge',
    });
  });

  it('accepts a null pull request number (a push)', () => {
    // Act
    const result = CreateRunRequestSchema.safeParse({
      repository: 'acme/monorepo',
      commit_sha: sha1,
      github_context: { pr_number: null, context: 'ci/custom' },
    });

    // Assert
    expect(result.data?.github_context).toEqual({ pr_number: null, context: 'ci/custom' });
  });

  it.each([
    ['a repository without owner', { repository: 'monorepo' }, 'repository'],
    ['a repository with extra parts', { repository: 'acme/mono/repo' }, 'repository'],
    ['a repository named ..', { repository: 'acme/..' }, 'repository'],
    ['a short commit', { commit_sha: 'abc1234' }, 'commit_sha'],
    ['a 41-character commit', { commit_sha: `${sha1}0` }, 'commit_sha'],
    ['a non-hex commit', { commit_sha: 'g'.repeat(40) }, 'commit_sha'],
    ['an unknown trigger', { trigger_type: 'schedule' }, 'trigger_type'],
    ['a branch with a space', { branch: 'my branch' }, 'branch'],
    ['a branch with ..', { branch: 'a..b' }, 'branch'],
    ['a branch that looks like an option', { branch: '--upload-pack=evil' }, 'branch'],
    ['an empty tag', { tag: '' }, 'tag'],
    [
      'a zero pull request number',
      { github_context: { pr_number: 0 } },
      'github_context.pr_number',
    ],
    [
      'a fractional pull request number',
      { github_context: { pr_number: 1.5 } },
      'github_context.pr_number',
    ],
    [
      'a numeric Actions run id',
      { github_context: { run_id: 5678901234 } },
      'github_context.run_id',
    ],
  ])('rejects %s', (_label, overrides, path) => {
    // Act
    const result = CreateRunRequestSchema.safeParse({
      repository: 'acme/monorepo',
      commit_sha: sha1,
      ...overrides,
    });

    // Assert
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toContain(path);
  });
});

describe('status update requests', () => {
  it('accepts every execution status with its optional fields', () => {
    // Act
    const parsed = UpdateStepStatusRequestSchema.parse({
      status: 'failed',
      exit_code: 2,
      logs_key: 'run/test/api/unit.log',
      message: 'tests failed',
    });

    // Assert
    expect(parsed.status).toBe('failed');
    expect(UpdateTaskStatusRequestSchema.safeParse({ status: 'skipped' }).success).toBe(true);
  });

  it.each([
    ['a job status', { status: 'completed' }, 'status'],
    ['a run status', { status: 'discovering' }, 'status'],
    ['a fractional exit code', { status: 'failed', exit_code: 1.5 }, 'exit_code'],
    ['an exit code beyond 32 bits', { status: 'failed', exit_code: 2 ** 31 }, 'exit_code'],
    ['an empty log key', { status: 'success', logs_key: '' }, 'logs_key'],
  ])('rejects %s', (_label, body, path) => {
    // Act
    const result = UpdateTaskStatusRequestSchema.safeParse(body);

    // Assert
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toContain(path);
  });
});

describe('ListRunsQuerySchema', () => {
  it('defaults the page and coerces query strings', () => {
    // Act
    const defaults = ListRunsQuerySchema.parse({});
    const explicit = ListRunsQuerySchema.parse({
      repository: 'acme/monorepo',
      branch: 'main',
      limit: '100',
      offset: '40',
    });

    // Assert
    expect(defaults).toEqual({ limit: 20, offset: 0 });
    expect(explicit).toEqual({
      repository: 'acme/monorepo',
      branch: 'main',
      limit: 100,
      offset: 40,
    });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ repository: 'not a repo' }, 'repository'],
  ])('rejects %j', (query, path) => {
    // Act
    const result = ListRunsQuerySchema.safeParse(query);

    // Assert
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toContain(path);
  });
});

describe('error bodies', () => {
  it('always carries code, message and details', () => {
    // Act
    const body = errorBody(ErrorCode.notFound, 'run not found');

    // Assert
    expect(body).toEqual({ error: { code: 'not_found', message: 'run not found', details: {} } });
    expect(ErrorBodySchema.safeParse(body).success).toBe(true);
  });

  it('maps each code to its HTTP status', () => {
    // Act / Assert
    expect(ERROR_HTTP_STATUS).toEqual({
      bad_request: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      unprocessable: 422,
      internal: 500,
    });
  });

  it('describes a body that is not an object without a path', () => {
    // Arrange
    const failure = CreateRunRequestSchema.safeParse(null);
    if (failure.success) throw new Error('expected the request to be invalid');

    // Act
    const body = validationErrorBody(failure.error);

    // Assert
    expect(body.error.message).toMatch(/^Invalid input: expected object/);
    expect(body.error.details['issues']).toEqual([{ path: '', message: body.error.message }]);
  });

  it('turns a validation failure into a bad_request naming every problem', () => {
    // Arrange
    const failure = CreateRunRequestSchema.safeParse({ repository: 'nope', commit_sha: 'xyz' });
    if (failure.success) throw new Error('expected the request to be invalid');

    // Act
    const body = validationErrorBody(failure.error);

    // Assert
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toBe(
      'repository: must be a GitHub repository as "owner/name" (and 1 more)',
    );
    expect(body.error.details['issues']).toEqual([
      { path: 'repository', message: 'must be a GitHub repository as "owner/name"' },
      { path: 'commit_sha', message: 'must be a full commit SHA (40 or 64 hex characters)' },
    ]);
  });
});
