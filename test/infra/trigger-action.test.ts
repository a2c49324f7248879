import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_DIST_DIR, renderActionDist } from '../../action/render-action-dist.js';
import { CreateRunRequestSchema } from '../../core/contracts/api.js';
import { projectRoot } from '../support/run-command.js';
import { FakeForgeApi, REQUEST_TOKEN } from './fake-forge-api.js';

const SHA = 'a'.repeat(40);
const HEAD_SHA = 'b'.repeat(40);

let api: FakeForgeApi;
let folder: string;

beforeEach(async () => {
  api = await FakeForgeApi.start();
  folder = await mkdtemp(join(tmpdir(), 'forge-action-'));
});

afterEach(async () => {
  await api.close();
  await rm(folder, { recursive: true, force: true });
});

/** The environment of a job the runner started, with `id-token: write`. */
async function jobEnvironment(eventName: string, event: object): Promise<NodeJS.ProcessEnv> {
  const eventPath = join(folder, 'event.json');
  await writeFile(eventPath, JSON.stringify(event));
  await writeFile(join(folder, 'output'), '');
  return {
    PATH: process.env.PATH,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/monorepo',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: SHA,
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_RUN_ID: '987654321',
    GITHUB_OUTPUT: join(folder, 'output'),
    ACTIONS_ID_TOKEN_REQUEST_URL: api.oidcRequestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    'INPUT_API-URL': `${api.url}/`,
    INPUT_AUDIENCE: 'forge-audience',
    'INPUT_STATUS-CONTEXT': 'ci/catalyst-forge',
    'INPUT_TRIGGER-TYPE': '',
  };
}

/** Runs the committed action as the runner does: `node action/dist/main.js`. */
function runAction(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, 'action/dist/main.js')],
      { cwd: folder, env, timeout: 30_000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout }),
    );
  });
}

describe('the GitHub Action', () => {
  it("starts a run for a push with the job's OIDC token and sets the run-id and run-url outputs", async () => {
    // Arrange
    const env = await jobEnvironment('push', { ref: 'refs/heads/main' });
    api.answerRuns({ status: 201, body: { id: 'run-42' } });

    // Act
    const result = await runAction(env);

    // Assert
    expect(result.code).toBe(0);
    const [oidc] = api.requestsTo('/oidc/token');
    expect(oidc?.query.get('audience')).toBe('forge-audience');
    expect(oidc?.query.get('api-version')).toBe('2.0');
    const [run] = api.requestsTo('/v1/runs');
    expect(run?.authorization).toBe('Bearer oidc-token-for-forge-audience');
    expect(run?.contentType).toBe('application/json');
    expect(run?.body).toEqual({
      repository: 'acme/monorepo',
      commit_sha: SHA,
      branch: 'main',
      trigger_type: 'push',
      github_context: { pr_number: null, run_id: '987654321', context: 'ci/catalyst-forge' },
    });
    expect(CreateRunRequestSchema.safeParse(run?.body).success).toBe(true);
    expect(result.stdout).toContain('run-42');
    expect(await readFile(join(folder, 'output'), 'utf8')).toBe(
      `run-id=run-42\nrun-url=${api.url}/v1/runs/run-42\n`,
    );
  });

  it("runs a pull request's head commit on its branch and reports to the pull request", async () => {
    // Arrange
    const env = await jobEnvironment('pull_request', {
      pull_request: { number: 17, head: { sha: HEAD_SHA, ref: 'feature/login' } },
    });
    api.answerRuns({ status: 200, body: { id: 'run-7' }, headers: { location: '/v1/runs/run-7' } });

    // Act
    const result = await runAction({ ...env, GITHUB_REF_NAME: '17/merge' });

    // Assert
    expect(result.code).toBe(0);
    expect(api.requestsTo('/v1/runs')[0]?.body).toEqual({
      repository: 'acme/monorepo',
      commit_sha: HEAD_SHA,
      branch: 'feature/login',
      trigger_type: 'pull_request',
      github_context: { pr_number: 17, run_id: '987654321', context: 'ci/catalyst-forge' },
    });
    expect(result.stdout).toContain('already exists');
  });

  it("fails the job with the API's error message when the API refuses", async () => {
    // Arrange
    const env = await jobEnvironment('push', {});
    api.answerRuns({
      status: 403,
      body: {
        error: {
          code: 'forbidden',
          message: 'repository acme/monorepo is not registered',
          details: {},
        },
      },
    });

    // Act
    const result = await runAction(env);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '::error title=Catalyst Forge trigger failed::repository acme/monorepo is not registered',
    );
    expect(await readFile(join(folder, 'output'), 'utf8')).toBe('');
  });

  it('fails without calling the API when the OIDC token endpoint fails', async () => {
    // Arrange
    const env = await jobEnvironment('push', {});
    api.failOidc({ status: 500, body: 'token service unavailable' });

    // Act
    const result = await runAction(env);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error .*OIDC token: HTTP 500 token service unavailable/);
    expect(api.requestsTo('/v1/runs')).toEqual([]);
  });

  it('says what the job lacks when it has no id-token permission', async () => {
    // Arrange
    const { ACTIONS_ID_TOKEN_REQUEST_URL: _url, ...env } = await jobEnvironment('push', {});

    // Act
    const result = await runAction(env);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('permissions: id-token: write');
    expect(api.requests).toEqual([]);
  });
});

describe("the action's files", () => {
  it('action/dist is what npm run build:action makes of action/src', async () => {
    // Arrange
    const expected = await renderActionDist();

    // Act
    const committed = new Map<string, string>();
    for (const name of await readdir(ACTION_DIST_DIR)) {
      committed.set(name, await readFile(join(ACTION_DIST_DIR, name), 'utf8'));
    }

    // Assert
    expect(committed).toEqual(expected);
  });

  it('action.yml declares the inputs and runs the committed script without node_modules', async () => {
    // Arrange
    const action = loadYaml<{
      inputs: Record<string, { required?: boolean; default?: string }>;
      runs: { using: string; main: string };
    }>(await readFile(join(projectRoot, 'action.yml'), 'utf8'));

    // Act
    const script = await readFile(join(projectRoot, action.runs.main), 'utf8');
    const imports = [
      ...(await Promise.all(
        (await readdir(ACTION_DIST_DIR)).map((name) =>
          readFile(join(ACTION_DIST_DIR, name), 'utf8'),
        ),
      )),
    ].flatMap((text) => [...text.matchAll(/from '([^']+)'/g)].map((match) => match[1]));

    // Assert
    expect(Object.keys(action.inputs).sort()).toEqual([
      'api-url',
      'audience',
      'status-context',
      'trigger-type',
    ]);
    expect(action.inputs['api-url']?.required).toBe(true);
    expect(action.runs).toEqual({ using: 'node24', main: 'action/dist/main.js' });
    expect(script).toContain('runAction');
    expect(
      imports.filter((source) => !source?.startsWith('./') && !source?.startsWith('node:')),
    ).toEqual([]);
  });
});
