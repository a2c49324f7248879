/**
 * `runDispatch` over the embedded job plane, with the FAKE worker of this folder
 * (`fake-worker.ts`) ending the jobs: what each command writes for Argo, and when it fails.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DispatchedJobFailedError } from '../../dispatcher/dispatcher-errors.js';
import { silentDispatcherLogger } from '../../dispatcher/dispatcher-logger.js';
import { discoveryMessage, releaseMessages, taskMessage } from '../../dispatcher/job-messages.js';
import { runDispatch, type DispatchRequest } from '../../dispatcher/run-dispatch.js';
import { DISCOVERY_OUTPUT, UNIT_STEP, jobSource, readJson } from './dispatcher-fixtures.js';
import { useEmbeddedJobPlane } from './job-plane-fixture.js';

const fixture = useEmbeddedJobPlane('forge-run-dispatch-');

function run(request: DispatchRequest): Promise<void> {
  return runDispatch({
    plane: fixture.plane,
    request,
    deadline: new Date(Date.now() + 10_000),
    logger: silentDispatcherLogger,
    pollInterval: { initialMs: 10, maxMs: 50 },
  });
}

describe('runDispatch', () => {
  it('writes the discovery output of a completed discovery job', async () => {
    fixture.fakeWorker('discovery', () => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const output = join(fixture.folder, 'discovery.json');
    const phaseGroups = join(fixture.folder, 'phase-groups.json');

    await run({
      type: 'discovery',
      message: discoveryMessage(jobSource()),
      files: { output, phaseGroups },
    });

    expect(await readJson(output)).toEqual(DISCOVERY_OUTPUT);
    expect(await readJson(phaseGroups)).toEqual(DISCOVERY_OUTPUT.phaseGroups);
  });

  it('writes nothing for a failed discovery job and fails with its reason', async () => {
    fixture.fakeWorker('discovery', () => ({ status: 'failed', error: 'no repo.cue' }));
    const output = join(fixture.folder, 'discovery.json');

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
    fixture.fakeWorker('tasks', () => ({ status: 'failed', error: 'exit 1' }));
    const message = taskMessage(jobSource(), {
      phase: 'test',
      project: 'api',
      projectPath: 'services/api',
      steps: [UNIT_STEP],
    });
    const output = join(fixture.folder, 'task.json');

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
    const worker = fixture.fakeWorker('releases', () => ({ status: 'completed' }));
    const messages = releaseMessages(jobSource(), ['api', 'web']);
    const output = join(fixture.folder, 'release.json');

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
