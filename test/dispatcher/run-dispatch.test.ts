/**
 * `runDispatch` over the embedded job plane, with the FAKE worker of this folder
 * (`fake-worker.ts`) ending the jobs: what each command writes for Argo, and when it fails.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedJobPlane } from '../../adapters/job-plane/embedded-job-plane.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { DispatchedJobFailedError } from '../../dispatcher/dispatcher-errors.js';
import { silentDispatcherLogger } from '../../dispatcher/dispatcher-logger.js';
import { discoveryMessage, releaseMessages, taskMessage } from '../../dispatcher/job-messages.js';
import { runDispatch, type DispatchRequest } from '../../dispatcher/run-dispatch.js';
import { DISCOVERY_OUTPUT, UNIT_STEP, jobSource } from './dispatcher-fixtures.js';
import { startFakeWorker, type FakeWorker } from './fake-worker.js';

let folder: string;
let plane: JobPlane;
let workers: FakeWorker[];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'forge-run-dispatch-'));
  plane = await createEmbeddedJobPlane({ dataDirectory: join(folder, 'plane') });
  workers = [];
});

afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await plane.close();
  await rm(folder, { recursive: true, force: true });
});

function run(request: DispatchRequest): Promise<void> {
  return runDispatch({
    plane,
    request,
    deadline: new Date(Date.now() + 10_000),
    logger: silentDispatcherLogger,
    pollInterval: { initialMs: 10, maxMs: 50 },
  });
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('runDispatch', () => {
  it('writes the discovery output of a completed discovery job', async () => {
    workers.push(
      startFakeWorker(plane, 'discovery', () => ({
        status: 'completed',
        result: DISCOVERY_OUTPUT,
      })),
    );
    const output = join(folder, 'discovery.json');
    const phaseGroups = join(folder, 'phase-groups.json');

    await run({
      type: 'discovery',
      message: discoveryMessage(jobSource()),
      files: { output, phaseGroups },
    });

    expect(await readJson(output)).toEqual(DISCOVERY_OUTPUT);
    expect(await readJson(phaseGroups)).toEqual(DISCOVERY_OUTPUT.phaseGroups);
  });

  it('writes nothing for a failed discovery job and fails with its reason', async () => {
    workers.push(
      startFakeWorker(plane, 'discovery', () => ({ status: 'failed', error: 'no repo.cue' })),
    );
    const output = join(folder, 'discovery.json');

    const running = run({
      type: 'discovery',
      message: discoveryMessage(jobSource()),
      files: { output },
    });

    await expect(running).rejects.toThrow(DispatchedJobFailedError);
    await expect(running).rejects.toThrow(/failed: no repo\.cue$/);
    await expect(stat(output)).rejects.toThrow(/ENOENT/);
  });

  it('writes the summary of a failed task job, then fails', async () => {
    workers.push(startFakeWorker(plane, 'tasks', () => ({ status: 'failed', error: 'exit 1' })));
    const message = taskMessage(jobSource(), {
      phase: 'test',
      project: 'api',
      projectPath: 'services/api',
      steps: [UNIT_STEP],
    });
    const output = join(folder, 'task.json');

    await expect(run({ type: 'task', message, output })).rejects.toThrow(DispatchedJobFailedError);

    expect(await readJson(output)).toEqual({
      job_id: message.job_id,
      status: 'failed',
      result_location: null,
      steps: {},
      error: 'exit 1',
    });
  });

  it('dispatches one release job per project and summarises them', async () => {
    const worker = startFakeWorker(plane, 'releases', () => ({ status: 'completed' }));
    workers.push(worker);
    const messages = releaseMessages(jobSource(), ['api', 'web']);
    const output = join(folder, 'release.json');

    await run({ type: 'release', messages, output });

    expect(worker.executions.sort()).toEqual(messages.map((message) => message.job_id).sort());
    expect(await readJson(output)).toMatchObject({
      status: 'completed',
      jobs: [
        { job_id: messages[0]?.job_id, status: 'completed' },
        { job_id: messages[1]?.job_id, status: 'completed' },
      ],
    });
  });
});
