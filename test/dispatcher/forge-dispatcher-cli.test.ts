/**
 * `forge-dispatcher` as Argo runs it: a child process talking to the job plane on the local
 * emulators. The jobs are ended by a FAKE worker (`fake-worker.ts`) running in this test
 * process against the same emulators, not by the product's worker runtime.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command.js';
import { uniqueResourceName } from '../support/local-aws.js';
import { COMMIT, DISCOVERY_OUTPUT, UNIT_STEP, readJson } from './dispatcher-fixtures.js';
import { startDispatcher } from './dispatcher-process.js';
import { useEmulatorJobPlane } from './job-plane-fixture.js';

const CLI_TEST_TIMEOUT_MS = 90_000;

const fixture = useEmulatorJobPlane('forge-dispatcher-cli-', 'disp');

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
    join(fixture.folder, 'discovery.json'),
    ...extra,
  ];
}

describe('forge-dispatcher on the emulators', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  it('dispatches discovery, writes the output files and exits 0', async () => {
    fixture.fakeWorker('discovery', () => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const runId = uniqueResourceName('run');
    const phaseGroups = join(fixture.folder, 'phase-groups.json');
    const releaseProjects = join(fixture.folder, 'release-projects.json');

    const result = await runCommand(
      'forge-dispatcher',
      discoveryArgs(
        runId,
        '--output-phase-groups',
        phaseGroups,
        '--output-release-projects',
        releaseProjects,
      ),
      { env: fixture.env },
    );

    expect(result.code, result.stderr).toBe(0);
    expect(await readJson(join(fixture.folder, 'discovery.json'))).toEqual(DISCOVERY_OUTPUT);
    expect(await readJson(phaseGroups)).toEqual(DISCOVERY_OUTPUT.phaseGroups);
    expect(await readJson(releaseProjects)).toEqual(['api']);
    expect((await fixture.plane.jobs.get(`${runId}/discovery`))?.status).toBe('completed');
  });

  it('dispatches a task from a steps file and writes its summary', async () => {
    fixture.fakeWorker('tasks', () => ({ status: 'completed' }));
    const runId = uniqueResourceName('run');
    const stepsFile = join(fixture.folder, 'steps.json');
    await writeFile(stepsFile, JSON.stringify([UNIT_STEP]));
    const output = join(fixture.folder, 'task.json');

    const result = await runCommand(
      'forge-dispatcher',
      [
        'task',
        ...['--run-id', runId, '--phase', 'test', '--project', 'api'],
        ...['--project-path', 'services/api', '--steps-file', stepsFile],
        ...['--repository', 'acme/monorepo', '--clone-url', '/srv/git/monorepo.git'],
        ...['--commit', COMMIT, '--output', output],
      ],
      { env: fixture.env },
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
    fixture.fakeWorker('discovery', () => ({
      status: 'failed',
      error: 'services/api/.forge/project.cue:3: phase "lint" is not defined\nmore detail',
    }));
    const runId = uniqueResourceName('run');

    const result = await runCommand('forge-dispatcher', discoveryArgs(runId), { env: fixture.env });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `forge-dispatcher: job ${runId}/discovery failed: services/api/.forge/project.cue:3: phase "lint" is not defined / more detail\n`,
    );
  });

  it('restarted after a SIGKILL, neither creates a second job nor gets it run twice', async () => {
    const runId = uniqueResourceName('run');
    const jobId = `${runId}/discovery`;
    const first = startDispatcher(discoveryArgs(runId), fixture.env);
    await first.waitFor('"job message sent"');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = startDispatcher(discoveryArgs(runId), fixture.env);
    await second.waitFor('"job message sent"');
    const worker = fixture.fakeWorker('discovery', () => ({
      status: 'completed',
      result: DISCOVERY_OUTPUT,
    }));
    const { code } = await second.exited;

    expect(code, second.stderr()).toBe(0);
    expect(second.stderr()).toContain('created by an earlier attempt and is still pending');
    expect(await fixture.plane.jobs.listByRun(runId)).toHaveLength(1);
    expect(worker.deliveries.filter((message) => message.job_id === jobId)).toHaveLength(1);
    expect(worker.executions).toEqual([jobId]);
    expect(await readJson(join(fixture.folder, 'discovery.json'))).toEqual(DISCOVERY_OUTPUT);
  });

  it('on SIGTERM requests the job’s cancellation and exits 1 promptly', async () => {
    const worker = fixture.fakeWorker('discovery', () => ({ status: 'hold-until-cancelled' }));
    const runId = uniqueResourceName('run');
    const jobId = `${runId}/discovery`;
    const dispatcher = startDispatcher(discoveryArgs(runId), fixture.env);
    await expect.poll(() => worker.executions, { timeout: 20_000 }).toEqual([jobId]);

    const signalledAt = Date.now();
    dispatcher.child.kill('SIGTERM');
    const { code } = await dispatcher.exited;

    expect(code).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(dispatcher.stderr()).toContain(
      `forge-dispatcher: dispatch of job ${jobId} stopped (SIGTERM); cancellation requested`,
    );
    expect((await fixture.plane.jobs.get(jobId))?.cancel_requested).toBe(true);
    await expect
      .poll(async () => (await fixture.plane.jobs.get(jobId))?.status, { timeout: 10_000 })
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
