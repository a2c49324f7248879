import { describe, expect, it } from 'vitest';
import {
  randomCommitSha,
  sampleDiscoveryOutput,
  uniqueRepositoryName,
} from '../support/postgres-run-fixtures.js';
import { useApiStack } from './api-stack.js';

/*
 * Every route of the API over real Postgres, the embedded job plane and a local OIDC issuer,
 * through the local HTTP server (the same handler Lambda runs). The workflow engine only
 * records submissions: the engines are tested on their own.
 */

const stack = useApiStack();

async function registered(): Promise<{ repository: string; token: string }> {
  const repository = uniqueRepositoryName();
  await stack.current.runs.registerRepository(repository, `https://github.com/${repository}.git`);
  return { repository, token: await stack.current.githubToken(repository) };
}

function runRequest(repository: string, extra: Record<string, unknown> = {}) {
  return { repository, commit_sha: randomCommitSha(), branch: 'main', ...extra };
}

function errorOf(body: Record<string, unknown>): {
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

describe('POST /v1/runs', () => {
  it('creates a run (201), submits its workflow and sets the first commit status', async () => {
    // Arrange
    const { repository, token } = await registered();
    const request = runRequest(repository, {
      trigger_type: 'pull_request',
      github_context: { pr_number: 42, run_id: '9001' },
    });

    // Act
    const created = await stack.current.call('POST', '/v1/runs', { token, body: request });

    // Assert
    expect(created.status).toBe(201);
    const runId = created.body.id as string;
    expect(created.body).toMatchObject({
      repository,
      commit_sha: request.commit_sha,
      status: 'pending',
      trigger_type: 'pull_request',
      argo_workflow_name: `recorded-${runId}`,
      github_context: { pr_number: 42, run_id: '9001', context: 'ci/catalyst-forge' },
    });
    expect(stack.current.engine.submissions.filter((run) => run.runId === runId)).toEqual([
      {
        runId,
        repository,
        cloneUrl: `https://github.com/${repository}.git`,
        commit: request.commit_sha,
        branch: 'main',
        tag: undefined,
      },
    ]);
    expect(stack.current.statusEvents.eventsOf(runId).map((event) => event.point)).toEqual([
      'created',
    ]);
    const stored = await stack.current.runs.getRun(runId);
    expect(stored?.workflowName).toBe(`recorded-${runId}`);
  });

  it('creates the run (201) when the status queue is unreachable, and keeps its event queued', async () => {
    // Arrange
    const { repository, token } = await registered();
    stack.current.statusEvents.failNext();

    // Act
    const created = await stack.current.call('POST', '/v1/runs', {
      token,
      body: runRequest(repository),
    });
    const runId = created.body.id as string;
    const sentLater = await stack.current.runs.flushStatusEvents(stack.current.statusEvents, runId);

    // Assert
    expect(created.status).toBe(201);
    expect(created.body.argo_workflow_name).toBe(`recorded-${runId}`);
    expect(stack.current.logged).toContainEqual({
      level: 'warn',
      message: 'status events not sent; they stay queued',
    });
    expect(sentLater).toBe(1);
    expect(stack.current.statusEvents.eventsOf(runId)).toMatchObject([
      { point: 'created', sequence: 1, run_id: runId },
    ]);
  });

  it('returns the existing run (200) for a commit already seen, without submitting again', async () => {
    // Arrange
    const { repository, token } = await registered();
    const request = runRequest(repository);
    const first = await stack.current.call('POST', '/v1/runs', { token, body: request });

    // Act
    const again = await stack.current.call('POST', '/v1/runs', { token, body: request });

    // Assert
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const submissions = stack.current.engine.submissions.filter(
      (run) => run.runId === first.body.id,
    );
    expect(submissions).toHaveLength(1);
  });

  it('makes one run of 20 concurrent identical requests', async () => {
    // Arrange
    const { repository, token } = await registered();
    const request = runRequest(repository);

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.current.call('POST', '/v1/runs', { token, body: request }),
      ),
    );

    // Assert
    expect(answers.map((answer) => answer.status).sort((a, b) => a - b)).toEqual([
      ...Array<number>(19).fill(200),
      201,
    ]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    const listed = await stack.current.runs.listRuns({ repository, limit: 100, offset: 0 });
    expect(listed.total).toBe(1);
  });

  it('submits again when an earlier request created the run but could not submit it', async () => {
    // Arrange
    const { repository, token } = await registered();
    const request = runRequest(repository);
    stack.current.engine.failNextSubmissions = 1;
    const failed = await stack.current.call('POST', '/v1/runs', { token, body: request });

    // Act
    const retried = await stack.current.call('POST', '/v1/runs', { token, body: request });

    // Assert
    expect(failed.status).toBe(500);
    expect(errorOf(failed.body).message).not.toContain('unreachable');
    expect(retried.status).toBe(200);
    expect(retried.body.argo_workflow_name).toBe(`recorded-${String(retried.body.id)}`);
  });
});

describe('the error body of every refusal', () => {
  it.each([
    ['a commit that is not a SHA', { commit_sha: 'main' }, 400, 'bad_request'],
    ['an unknown trigger type', { trigger_type: 'cron' }, 400, 'bad_request'],
    ['a branch and a tag at once', { tag: 'v1.0.0' }, 422, 'unprocessable'],
    [
      'a pull request run without its number',
      { trigger_type: 'pull_request' },
      422,
      'unprocessable',
    ],
  ])('refuses %s', async (_, extra, status, code) => {
    // Arrange
    const { repository, token } = await registered();

    // Act
    const answer = await stack.current.call('POST', '/v1/runs', {
      token,
      body: runRequest(repository, extra),
    });

    // Assert
    expect(answer.status).toBe(status);
    expect(errorOf(answer.body).code).toBe(code);
    expect(errorOf(answer.body).details).toBeTypeOf('object');
  });

  it('answers 400 for a body that is not JSON and 413 for one that is too large', async () => {
    // Arrange
    const { token } = await registered();

    // Act
    const notJson = await stack.current.call('POST', '/v1/runs', {
      token,
      rawBody: '{"repository":',
    });
    const tooLarge = await stack.current.call('POST', '/v1/runs', {
      token,
      rawBody: JSON.stringify({ padding: 'x'.repeat(200_000) }),
    });

    // Assert
    expect([notJson.status, errorOf(notJson.body).code]).toEqual([400, 'bad_request']);
    expect([tooLarge.status, errorOf(tooLarge.body).code]).toEqual([413, 'payload_too_large']);
  });

  it('answers 401 without a token or with a token that is not one', async () => {
    // Arrange
    const { repository } = await registered();

    // Act
    const missing = await stack.current.call('POST', '/v1/runs', { body: runRequest(repository) });
    const garbage = await stack.current.call('POST', '/v1/runs', {
      token: 'not.a.token',
      body: runRequest(repository),
    });

    // Assert
    expect([missing.status, errorOf(missing.body).code]).toEqual([401, 'unauthorized']);
    expect(errorOf(missing.body).details.reason).toBe('missing_token');
    expect(garbage.status).toBe(401);
  });

  it("answers 403 for another repository's token, an unregistered repository and a service token", async () => {
    // Arrange
    const { repository } = await registered();
    const otherToken = await stack.current.githubToken('someone/else');
    const unregistered = uniqueRepositoryName();
    const unregisteredToken = await stack.current.githubToken(unregistered);
    const serviceToken = await stack.current.serviceToken();

    // Act
    const other = await stack.current.call('POST', '/v1/runs', {
      token: otherToken,
      body: runRequest(repository),
    });
    const notRegistered = await stack.current.call('POST', '/v1/runs', {
      token: unregisteredToken,
      body: runRequest(unregistered),
    });
    const service = await stack.current.call('POST', '/v1/runs', {
      token: serviceToken,
      body: runRequest(repository),
    });

    // Assert
    expect([other.status, errorOf(other.body).details.reason]).toEqual([
      403,
      'repository_mismatch',
    ]);
    expect([notRegistered.status, errorOf(notRegistered.body).details.reason]).toEqual([
      403,
      'repository_not_registered',
    ]);
    expect([service.status, errorOf(service.body).details.reason]).toEqual([
      403,
      'wrong_principal_kind',
    ]);
  });

  it('answers 404 for an unknown run, a malformed id and an unknown route', async () => {
    // Arrange
    const { token } = await registered();

    // Act
    const unknown = await stack.current.call('GET', `/v1/runs/${crypto.randomUUID()}`, { token });
    const malformed = await stack.current.call('GET', '/v1/runs/not-a-uuid', { token });
    const route = await stack.current.call('GET', '/v1/nothing', { token });

    // Assert
    expect([unknown.status, errorOf(unknown.body).code]).toEqual([404, 'not_found']);
    expect([malformed.status, errorOf(malformed.body).code]).toEqual([400, 'bad_request']);
    expect([route.status, errorOf(route.body).code]).toEqual([404, 'not_found']);
  });

  it('never answers a 500 to what a client sends', async () => {
    // Arrange
    const { repository, token } = await registered();
    const service = await stack.current.serviceToken();
    const requests: [string, string, { token?: string; rawBody?: string; body?: unknown }][] = [
      ['POST', '/v1/runs', { token, rawBody: 'null' }],
      ['POST', '/v1/runs', { token, rawBody: '[]' }],
      ['POST', '/v1/runs', { token, body: { repository: 42 } }],
      ['POST', '/v1/runs', { token, body: runRequest(repository, { github_context: 'x' }) }],
      ['POST', '/v1/runs', { token, body: runRequest(`${repository}/../x`) }],
      ['GET', '/v1/runs?limit=-1', { token }],
      ['GET', '/v1/runs?limit=abc&offset=1e999', { token }],
      ['GET', '/v1/runs/%E0%A4%A', { token }],
      ['DELETE', '/v1/runs/00000000-0000-0000-0000-000000000000', { token }],
      [
        'PUT',
        `/v1/tasks/${crypto.randomUUID()}/status`,
        { token: service, body: { status: 'done' } },
      ],
      [
        'PUT',
        `/v1/steps/${crypto.randomUUID()}/status`,
        { token: service, body: { status: 'success' } },
      ],
      [
        'PUT',
        '/v1/steps/x/status',
        { token: service, body: { status: 'success', exit_code: 2 ** 40 } },
      ],
      ['GET', '/v1/jobs/not-a-run', { token: service }],
      ['PUT', '/v1/repositories/bad owner/x', { token: service, body: { clone_url: 'x' } }],
      ['PATCH', '/v1/runs', { token }],
    ];

    // Act
    const answers = await Promise.all(
      requests.map(([method, path, options]) => stack.current.call(method, path, options)),
    );

    // Assert
    for (const [index, answer] of answers.entries()) {
      expect(answer.status, `${requests[index]?.[0]} ${requests[index]?.[1]}`).toBeLessThan(500);
      expect(errorOf(answer.body).code).toMatch(
        /^(bad_request|not_found|forbidden|unprocessable)$/,
      );
    }
  });
});

describe('reading and cancelling runs', () => {
  it('returns a run with its phases, tasks and steps, each step linking its log', async () => {
    // Arrange
    const { repository, token } = await registered();
    const created = await stack.current.call('POST', '/v1/runs', {
      token,
      body: runRequest(repository),
    });
    const runId = created.body.id as string;
    await stack.current.runs.updateProgress(runId, (draft) =>
      draft.materialise(sampleDiscoveryOutput(), new Date().toISOString()),
    );
    const detail = await stack.current.runs.getRun(runId);
    const step = detail?.phases[0]?.tasks[0]?.steps[0];
    const logKey = `${runId}/${detail?.phases[0]?.name}/${detail?.phases[0]?.tasks[0]?.project}/${step?.name}.log`;
    await stack.current.plane.blobs.logs.put(logKey, 'hello from the step\n');
    const service = await stack.current.serviceToken();
    const update = await stack.current.call('PUT', `/v1/steps/${step?.id}/status`, {
      token: service,
      body: { status: 'running', logs_key: logKey },
    });

    // Act
    const read = await stack.current.call('GET', `/v1/runs/${runId}`, { token });

    // Assert
    expect(update.status).toBe(200);
    expect(read.status).toBe(200);
    const phases = read.body.phases as {
      name: string;
      tasks: { steps: Record<string, unknown>[] }[];
    }[];
    expect(phases.map((phase) => phase.name)).toEqual(detail?.phases.map((phase) => phase.name));
    const firstStep = phases[0]?.tasks[0]?.steps[0];
    expect(firstStep).toMatchObject({ status: 'running', logs_key: logKey });
    const log = await fetch(String(firstStep?.log_url));
    expect(await log.text()).toBe('hello from the step\n');
  });

  it("lists the caller's repository's runs, newest first, and refuses another's", async () => {
    // Arrange
    const { repository, token } = await registered();
    for (let index = 0; index < 3; index += 1) {
      await stack.current.call('POST', '/v1/runs', { token, body: runRequest(repository) });
    }

    // Act
    const page = await stack.current.call('GET', '/v1/runs?limit=2&offset=0', { token });
    const other = await stack.current.call('GET', '/v1/runs?repository=someone/else', { token });

    // Assert
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect((page.body.runs as { repository: string }[]).map((run) => run.repository)).toEqual([
      repository,
      repository,
    ]);
    expect(other.status).toBe(403);
  });

  it('cancels a run through the engine (202) and answers 409 once it has ended', async () => {
    // Arrange
    const { repository, token } = await registered();
    const created = await stack.current.call('POST', '/v1/runs', {
      token,
      body: runRequest(repository),
    });
    const runId = created.body.id as string;

    // Act
    const cancelled = await stack.current.call('DELETE', `/v1/runs/${runId}`, { token });
    const again = await stack.current.call('DELETE', `/v1/runs/${runId}`, { token });

    // Assert
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('cancelled');
    expect(stack.current.engine.cancellations).toContain(runId);
    expect([again.status, errorOf(again.body).code]).toEqual([409, 'conflict']);
    const points = stack.current.statusEvents.eventsOf(runId).map((event) => event.point);
    expect(points).toEqual(['created', 'completed']);
  });
});

describe('internal routes', () => {
  it('lists the jobs of a run from the job store for a service token only', async () => {
    // Arrange
    const runId = crypto.randomUUID();
    await stack.current.plane.jobs.create({
      job_id: `${runId}/discovery`,
      run_id: runId,
      type: 'discovery',
    });
    const service = await stack.current.serviceToken();
    const github = await stack.current.githubToken('acme/app');

    // Act
    const listed = await stack.current.call('GET', `/v1/jobs/${runId}`, { token: service });
    const refused = await stack.current.call('GET', `/v1/jobs/${runId}`, { token: github });

    // Assert
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      run_id: runId,
      jobs: [{ job_id: `${runId}/discovery`, type: 'discovery', status: 'pending' }],
    });
    expect(refused.status).toBe(403);
  });

  it('registers a repository for an operator and answers health and readiness', async () => {
    // Arrange
    const service = await stack.current.serviceToken();
    const repository = uniqueRepositoryName();

    // Act
    const registeredAnswer = await stack.current.call('PUT', `/v1/repositories/${repository}`, {
      token: service,
      body: { clone_url: 'https://git.example.com/acme/app.git' },
    });
    const health = await stack.current.call('GET', '/healthz');
    const ready = await stack.current.call('GET', '/readyz');

    // Assert
    expect(registeredAnswer.status).toBe(200);
    expect(registeredAnswer.body).toMatchObject({
      full_name: repository,
      clone_url: 'https://git.example.com/acme/app.git',
    });
    expect((await stack.current.runs.getRepository(repository))?.cloneUrl).toBe(
      'https://git.example.com/acme/app.git',
    );
    expect([health.status, ready.status]).toEqual([200, 200]);
  });
});
