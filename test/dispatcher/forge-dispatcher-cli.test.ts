/**
 * `forge-dispatcher` as Argo runs it: a child process talking to the job plane on the local
 * emulators. The jobs are ended by a FAKE worker (`fake-worker.ts`) running in this test
 * process against the same emulators, not by the product's worker runtime.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdkEnvironment } from '../../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../../adapters/aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import type { JobMessage } from '../../core/contracts/jobs.js';
import type { QueueName } from '../../core/job-plane/queue-settings.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { runCommand } from '../support/run-command.js';
import { localAws, uniqueResourceName } from '../support/local-aws.js';
import { COMMIT, DISCOVERY_OUTPUT, UNIT_STEP } from './dispatcher-fixtures.js';
import { startDispatcher } from './dispatcher-process.js';
import { startFakeWorker, type FakeOutcome, type FakeWorker } from './fake-worker.js';

const CLI_TEST_TIMEOUT_MS = 90_000;

let folder: string;
let plane: JobPlane;
let env: Record<string, string>;
let workers: FakeWorker[];

beforeEach(async () => {
  const endpoints = localAws();
  // The fake worker's SDK clients read these, as the dispatcher's do in its own process.
  Object.assign(process.env, sdkEnvironment(endpoints));
  const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName('disp'));
  env = { ...provisioned.environment, ...sdkEnvironment(endpoints) };
  plane = await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
  folder = await mkdtemp(join(tmpdir(), 'forge-dispatcher-cli-'));
  workers = [];
});

afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await plane.close();
  await rm(folder, { recursive: true, force: true });
});

function fakeWorker(queue: QueueName, decide: (message: JobMessage) => FakeOutcome): FakeWorker {
  const worker = startFakeWorker(plane, queue, decide);
  workers.push(worker);
  return worker;
}

function discoveryArgs(runId: string, ...extra: string[]): string[] {
  return [
    'discovery',
    '--run-id',
    runId,
    '--repository',
    'acme/monorepo',
    '--clone-url',
    'https://github.com/acme/monorepo.git',
    '--commit',
    COMMIT,
    '--branch',
    'main',
    '--output',
    join(folder, 'discovery.json'),
    ...extra,
  ];
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('forge-dispatcher on the emulators', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('dispatches discovery, writes the output files and exits 0', async () => {
    fakeWorker('discovery', () => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const runId = uniqueResourceName('run');
    const phaseGroups = join(folder, 'phase-groups.json');
    const releaseProjects = join(folder, 'release-projects.json');

    const result = await runCommand(
      'forge-dispatcher',
      discoveryArgs(
        runId,
        '--output-phase-groups',
        phaseGroups,
        '--output-release-projects',
        releaseProjects,
      ),
      { env },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(await readJson(join(folder, 'discovery.json'))).toEqual(DISCOVERY_OUTPUT);
    expect(await readJson(phaseGroups)).toEqual(DISCOVERY_OUTPUT.phaseGroups);
    expect(await readJson(releaseProjects)).toEqual(['api']);
    expect((await plane.jobs.get(`${runId}/discovery`))?.status).toBe('completed');
  });

  it('dispatches a task from a steps file and writes its summary', async () => {
    fakeWorker('tasks', () => ({ status: 'completed' }));
    const runId = uniqueResourceName('run');
    const stepsFile = join(folder, 'steps.json');
    await writeFile(stepsFile, JSON.stringify([UNIT_STEP]));
    const output = join(folder, 'task.json');

    const result = await runCommand(
      'forge-dispatcher',
      [
        'task',
        ...['--run-id', runId, '--phase', 'test', '--project', 'api'],
        ...['--project-path', 'services/api', '--steps-file', stepsFile],
        ...['--repository', 'acme/monorepo', '--clone-url', '/srv/git/monorepo.git'],
        ...['--commit', COMMIT, '--output', output],
      ],
      { env },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(await readJson(output)).toMatchObject({
      job_id: `${runId}/task/test/api`,
      status: 'completed',
      result_location: expect.stringMatching(/^s3:\/\//),
      steps: { unit: { status: 'success', exit_code: 0 } },
      error: null,
    });
  });

  it('exits 1 with the job’s reason on one line when the job fails', async () => {
    fakeWorker('discovery', () => ({
      status: 'failed',
      error: 'services/api/.forge/project.cue:3: phase "lint" is not defined\nmore detail',
    }));
    const runId = uniqueResourceName('run');

    const result = await runCommand('forge-dispatcher', discoveryArgs(runId), { env });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `forge-dispatcher: job ${runId}/discovery failed: services/api/.forge/project.cue:3: phase "lint" is not defined / more detail\n`,
    );
  });

  it('restarted after a SIGKILL, neither creates a second job nor gets it run twice', async () => {
    const runId = uniqueResourceName('run');
    const jobId = `${runId}/discovery`;
    const first = startDispatcher(discoveryArgs(runId), env);
    await first.waitFor('"job message sent"');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = startDispatcher(discoveryArgs(runId), env);
    await second.waitFor('"job message sent"');
    const worker = fakeWorker('discovery', () => ({
      status: 'completed',
      result: DISCOVERY_OUTPUT,
    }));
    const { code } = await second.exited;

    expect(code, second.stderr()).toBe(0);
    expect(second.stderr()).toContain('created by an earlier attempt and is still pending');
    expect(await plane.jobs.listByRun(runId)).toHaveLength(1);
    expect(worker.deliveries.filter((message) => message.job_id === jobId)).toHaveLength(1);
    expect(worker.executions).toEqual([jobId]);
    expect(await readJson(join(folder, 'discovery.json'))).toEqual(DISCOVERY_OUTPUT);
  });

  it('on SIGTERM requests the job’s cancellation and exits 1 promptly', async () => {
    const worker = fakeWorker('discovery', () => ({ status: 'hold-until-cancelled' }));
    const runId = uniqueResourceName('run');
    const jobId = `${runId}/discovery`;
    const dispatcher = startDispatcher(discoveryArgs(runId), env);
    await expect.poll(() => worker.executions, { timeout: 20_000 }).toEqual([jobId]);

    const signalledAt = Date.now();
    dispatcher.child.kill('SIGTERM');
    const { code } = await dispatcher.exited;

    expect(code).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(dispatcher.stderr()).toContain(
      `forge-dispatcher: dispatch of job ${jobId} stopped (SIGTERM); cancellation requested`,
    );
    expect((await plane.jobs.get(jobId))?.cancel_requested).toBe(true);
    await expect
      .poll(async () => (await plane.jobs.get(jobId))?.status, { timeout: 10_000 })
      .toBe('cancelled');
  });
});

describe('forge-dispatcher without a shared job plane', () => {
  it('refuses FORGE_MODE=embedded with exit code 2 and says what to do', async () => {
    const result = await runCommand('forge-dispatcher', discoveryArgs('run-1'), {
      env: { FORGE_MODE: 'embedded' },
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/FORGE_MODE: is "embedded"/);
    expect(result.stderr).toContain('forge-pipeline emulators');
    expect(result.stderr).toContain('FORGE_MODE=aws');
  });
});
