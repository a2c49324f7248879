/**
 * Fail-fast across a run's running jobs, on the embedded job plane: the dispatch logic of
 * `forge-dispatcher` with FAKE workers (`test/dispatcher/fake-worker.ts`) ending the jobs.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobMessage } from '../../core/contracts/jobs.js';
import { DispatchedJobFailedError } from '../../dispatcher/dispatcher-errors.js';
import { silentDispatcherLogger } from '../../dispatcher/dispatcher-logger.js';
import { dispatchFailingFast, RunAlreadyFailedError } from '../../dispatcher/fail-fast.js';
import { taskMessage, type JobSource } from '../../dispatcher/job-messages.js';
import { isRetryableFailure } from '../../dispatcher/retryable-failure.js';
import { runDispatch } from '../../dispatcher/run-dispatch.js';
import { jobSource, UNIT_STEP } from '../dispatcher/dispatcher-fixtures.js';
import type { FakeOutcome } from '../dispatcher/fake-worker.js';
import { useEmbeddedJobPlane } from '../dispatcher/job-plane-fixture.js';

const fixture = useEmbeddedJobPlane('forge-fail-fast-');
let source: JobSource;

beforeEach(() => {
  source = jobSource();
});

/** Task workers that end each job as `decide` says; one per job that may be held. */
function taskWorkers(count: number, decide: (project: string) => FakeOutcome): void {
  for (let index = 0; index < count; index++) {
    fixture.fakeWorker('tasks', (message: JobMessage) =>
      decide(message.type === 'task' ? message.payload.project.name : ''),
    );
  }
}

/** Dispatches project `project`'s task of phase `test`, as `forge-dispatcher task` does. */
function dispatchTask(project: string): Promise<void> {
  return runDispatch({
    plane: fixture.plane,
    request: {
      type: 'task',
      message: taskMessage(source, {
        phase: 'test',
        project,
        projectPath: `services/${project}`,
        steps: [UNIT_STEP],
      }),
      output: join(fixture.folder, `${project}.json`),
    },
    deadline: new Date(Date.now() + 30_000),
    pollInterval: { initialMs: 5, maxMs: 25 },
    logger: silentDispatcherLogger,
  });
}

const jobId = (project: string) => `${source.runId}/task/test/${project}`;
const status = async (project: string) => (await fixture.plane.jobs.get(jobId(project)))?.status;

describe('dispatchFailingFast', () => {
  it('stops the run’s running jobs when its own job fails, so their dispatchers fail too', async () => {
    taskWorkers(3, (project) =>
      project === 'api'
        ? { status: 'failed', error: 'exit 2' }
        : { status: 'hold-until-cancelled' },
    );
    const siblings = ['web', 'cli'].map((project) => dispatchTask(project));
    for (const sibling of siblings) sibling.catch(() => undefined);
    await expect
      .poll(() => Promise.all([status('web'), status('cli')]))
      .toEqual(['running', 'running']);

    const failing = dispatchFailingFast({ jobs: fixture.plane.jobs, runId: source.runId }, () =>
      dispatchTask('api'),
    );

    await expect(failing).rejects.toThrow(DispatchedJobFailedError);
    await expect(failing).rejects.toThrow(/failed: exit 2/);
    for (const sibling of siblings) {
      await expect(sibling).rejects.toThrow(/cancelled: cancel requested/);
    }
    expect([await status('api'), await status('web'), await status('cli')]).toEqual([
      'failed',
      'cancelled',
      'cancelled',
    ]);
  });

  it('submits nothing once a job of the run has failed', async () => {
    taskWorkers(1, () => ({ status: 'failed', error: 'exit 1' }));
    await expect(dispatchTask('api')).rejects.toThrow(DispatchedJobFailedError);

    const late = dispatchFailingFast({ jobs: fixture.plane.jobs, runId: source.runId }, () =>
      dispatchTask('web'),
    );

    await expect(late).rejects.toThrow(RunAlreadyFailedError);
    await expect(late).rejects.toThrow(`job ${jobId('api')}`);
    expect(await fixture.plane.jobs.get(jobId('web'))).toBeUndefined();
  });

  it('leaves the run’s other jobs running when its own job was cancelled, not failed', async () => {
    taskWorkers(2, () => ({ status: 'hold-until-cancelled' }));
    const sibling = dispatchTask('web');
    sibling.catch(() => undefined);
    const own = dispatchFailingFast({ jobs: fixture.plane.jobs, runId: source.runId }, () =>
      dispatchTask('api'),
    );
    own.catch(() => undefined);
    await expect
      .poll(() => Promise.all([status('web'), status('api')]))
      .toEqual(['running', 'running']);

    await fixture.plane.jobs.requestCancel(jobId('api'));

    await expect(own).rejects.toThrow(/cancelled/);
    expect(await fixture.plane.jobs.get(jobId('web'))).toMatchObject({
      status: 'running',
      cancel_requested: false,
    });
    await fixture.plane.jobs.requestCancel(jobId('web'));
    await expect(sibling).rejects.toThrow(/cancelled/);
  });

  it('reports its own job’s failure even when the run’s jobs cannot be listed', async () => {
    taskWorkers(1, () => ({ status: 'failed', error: 'exit 1' }));
    // The job table's run index is unreachable, as during a throttling episode.
    const jobs = {
      listByRun: () => Promise.reject(new Error('index unavailable')),
      requestCancel: (id: string) => fixture.plane.jobs.requestCancel(id),
    };

    const failing = dispatchFailingFast({ jobs, runId: source.runId }, () => dispatchTask('api'));

    await expect(failing).rejects.toThrow(DispatchedJobFailedError);
  });
});

describe('isRetryableFailure', () => {
  it.each([
    ['a failed job', new DispatchedJobFailedError('r/task/test/api', 'failed', 'exit 1'), false],
    ['a run that failed already', new RunAlreadyFailedError('r', 'r/task/test/api'), false],
    [
      'an unreachable job plane',
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      true,
    ],
    ['an unexpected error', new TypeError('x is undefined'), true],
  ])('says %s is %s', (_case, error, retryable) => {
    expect(isRetryableFailure(error)).toBe(retryable);
  });
});
