import { describe, expect, it } from 'vitest';
import { releaseJobId, taskJobId, type JobRecord } from '../contracts/jobs.js';
import { applyJobRecord, executionStatusOfJob } from './apply-job-record.js';
import { materialiseDiscovery } from './materialise-discovery.js';
import { RunProgressDraft } from './run-progress-draft.js';
import { ExecutionNotFoundError, RunNotDiscoveredError } from './run-progress-errors.js';
import {
  at,
  buildApi,
  buildWeb,
  completedTask,
  discovered,
  discovery,
  discoveryJob,
  job,
  newRun,
  reconcile,
  RUN_ID,
  statuses,
  testApi,
  testWeb,
} from './testing/sample-run.js';

describe('materialiseDiscovery', () => {
  it('makes every phase of every group, a task per project with steps, steps in order', () => {
    // Act
    const plan = materialiseDiscovery(RUN_ID, discovery({ releaseEnabled: true }));

    // Assert
    expect(plan.phases.map((phase) => [phase.name, phase.group])).toEqual([
      ['build', 1],
      ['audit', 2],
      ['test', 2],
    ]);
    expect(plan.tasks.map((task) => task.jobId)).toEqual([buildApi, buildWeb, testApi, testWeb]);
    expect(plan.steps.filter((step) => step.jobId === buildApi)).toMatchObject([
      { name: 'compile', position: 0, action: 'earthly', target: '+build', run: null },
      { name: 'vet', position: 1, action: 'shell', target: null, run: 'go vet ./...' },
    ]);
    expect(plan.releases).toMatchObject([{ jobId: releaseJobId(RUN_ID, 'api'), project: 'api' }]);
    expect(materialiseDiscovery(RUN_ID, discovery()).releases).toEqual([]);
  });
});

describe('executionStatusOfJob', () => {
  it.each([
    ['pending', undefined, 'pending'],
    ['running', at(1), 'running'],
    ['completed', at(1), 'success'],
    ['failed', at(1), 'failed'],
    ['cancelled', at(1), 'cancelled'],
    ['cancelled', undefined, 'skipped'],
  ] as const)('maps a %s job (started %s) to %s', (status, startedAt, expected) => {
    expect(executionStatusOfJob({ status, ...(startedAt ? { started_at: startedAt } : {}) })).toBe(
      expected,
    );
  });
});

describe('applyJobRecord and deriveRunProgress', () => {
  it('moves the run to discovering, then materialises the plan once discovery completes', () => {
    // Act
    const { snapshot, points } = reconcile([
      job(discoveryJob, { status: 'running', worker_id: 'd1', started_at: at(1) }),
      discovered,
      discovered,
    ]);

    // Assert
    expect(snapshot.run).toMatchObject({ status: 'running', discoveredAt: at(2) });
    expect(snapshot.tasks).toHaveLength(4);
    expect(statuses(snapshot).phases).toEqual({
      build: 'pending',
      audit: 'pending',
      test: 'pending',
    });
    expect(points).toEqual(['discovered']);
  });

  it('asks for the discovery output when a record needs a plan the run lacks', () => {
    // Arrange
    const draft = new RunProgressDraft(newRun(), { now: new Date(at(59)) });

    // Act
    const apply = () => applyJobRecord(draft, completedTask(buildApi, ['compile'], 3, 4));

    // Assert
    expect(apply).toThrow(RunNotDiscoveredError);
  });

  it('refuses a task job the plan does not contain', () => {
    // Act
    const apply = () =>
      reconcile([discovered, job(taskJobId(RUN_ID, 'build', 'ghost'), { status: 'running' })]);

    // Assert
    expect(apply).toThrow(ExecutionNotFoundError);
  });

  it('succeeds the run when every task and release succeeded, group by group', () => {
    // Act
    const { snapshot, points } = reconcile(
      [
        discovered,
        job(buildApi, { status: 'running', worker_id: 'w1', started_at: at(3) }),
        completedTask(buildApi, ['compile', 'vet'], 3, 5),
        completedTask(buildWeb, ['bundle'], 3, 6),
        completedTask(testApi, ['unit'], 7, 8),
        completedTask(testWeb, ['e2e'], 7, 9),
        job(releaseJobId(RUN_ID, 'api'), {
          status: 'completed',
          started_at: at(10),
          completed_at: at(11),
        }),
      ],
      discovery({ releaseEnabled: true }),
    );

    // Assert
    expect(statuses(snapshot)).toMatchObject({
      run: 'success',
      phases: { build: 'success', audit: 'success', test: 'success' },
      releases: { api: 'success' },
    });
    expect(snapshot.run.completedAt).toBe(at(11));
    expect(snapshot.phases.find((phase) => phase.name === 'build')).toMatchObject({
      startedAt: at(3),
      completedAt: at(6),
    });
    expect(points).toEqual(['discovered', 'group_completed', 'group_completed', 'completed']);
  });

  it('keeps the run running while a triggered release has not ended', () => {
    // Act
    const { snapshot } = reconcile(
      [
        discovered,
        completedTask(buildApi, ['compile', 'vet'], 3, 5),
        completedTask(buildWeb, ['bundle'], 3, 6),
        completedTask(testApi, ['unit'], 7, 8),
        completedTask(testWeb, ['e2e'], 7, 9),
      ],
      discovery({ releaseEnabled: true }),
    );

    // Assert
    expect(snapshot.run.status).toBe('running');
  });

  it('succeeds the run when the engine recorded its release as not run', () => {
    // Act
    const { snapshot } = reconcile(
      [
        discovered,
        completedTask(buildApi, ['compile', 'vet'], 3, 5),
        completedTask(buildWeb, ['bundle'], 3, 6),
        completedTask(testApi, ['unit'], 7, 8),
        completedTask(testWeb, ['e2e'], 7, 9),
        job(releaseJobId(RUN_ID, 'api'), {
          status: 'cancelled',
          completed_at: at(10),
          error: 'release of api skipped: no release worker pool runs here',
        }),
      ],
      discovery({ releaseEnabled: true }),
    );

    // Assert
    expect(statuses(snapshot)).toMatchObject({ run: 'success', releases: { api: 'skipped' } });
    expect(snapshot.run.completedAt).toBe(at(10));
  });

  it('fails fast: the first failed step fails its task, phase and run; what never started is skipped', () => {
    // Arrange
    const failedBuild = job(buildApi, {
      status: 'failed',
      worker_id: 'w1',
      started_at: at(3),
      completed_at: at(4),
      error: 'step compile failed: exit status 2',
      steps: {
        compile: { status: 'failed', exit_code: 2, started_at: at(3), completed_at: at(4) },
        vet: { status: 'skipped' },
      },
    });

    // Act
    const { snapshot, points } = reconcile(
      [discovered, job(buildWeb, { status: 'running', started_at: at(3) }), failedBuild],
      discovery({ releaseEnabled: true }),
    );

    // Assert
    expect(statuses(snapshot)).toEqual({
      run: 'failed',
      phases: { build: 'failed', audit: 'skipped', test: 'skipped' },
      tasks: {
        'task/build/api': 'failed',
        'task/build/web': 'running',
        'task/test/api': 'skipped',
        'task/test/web': 'skipped',
      },
      steps: {
        'task/build/api/compile': 'failed',
        'task/build/api/vet': 'skipped',
        'task/build/web/bundle': 'pending',
        'task/test/api/unit': 'skipped',
        'task/test/web/e2e': 'skipped',
      },
      releases: { api: 'skipped' },
    });
    expect(snapshot.run.completedAt).toBe(at(4));
    expect(points).toEqual(['discovered', 'completed']);
  });

  it('reaches the same state whatever the order the records arrive in', () => {
    // Arrange: two failures in group 1 (the later learnt first in one order), the task that
    // started first learnt last in another, and a sibling cancelled while it ran.
    const records = [
      discovered,
      job(buildApi, {
        status: 'failed',
        started_at: at(2),
        completed_at: at(6),
        error: 'late failure',
        steps: { compile: { status: 'failed', exit_code: 1, completed_at: at(6) } },
      }),
      job(buildWeb, {
        status: 'failed',
        started_at: at(3),
        completed_at: at(4),
        error: 'early failure',
        steps: { bundle: { status: 'failed', exit_code: 3, completed_at: at(4) } },
      }),
      job(buildWeb, { status: 'running', started_at: at(3) }),
    ];
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ];

    // Act
    const ends = orders.map((order) =>
      reconcile(order.map((index) => records[index] as JobRecord)),
    );

    // Assert
    for (const end of ends) expect(end.snapshot).toEqual(ends[0]?.snapshot);
    expect(ends[0]?.snapshot.run).toMatchObject({
      status: 'failed',
      completedAt: at(4),
      error: 'build/web/bundle: early failure',
    });
    expect(ends[0]?.snapshot.phases.find((phase) => phase.name === 'build')).toMatchObject({
      startedAt: at(2),
      completedAt: at(4),
    });
  });

  it('ends a task skipped when its job was cancelled before it started', () => {
    // Act
    const { snapshot } = reconcile([
      discovered,
      job(buildApi, { status: 'failed', started_at: at(3), completed_at: at(4) }),
      job(buildWeb, { status: 'cancelled', completed_at: at(5), error: 'cancelled before start' }),
    ]);

    // Assert
    expect(statuses(snapshot).tasks['task/build/web']).toBe('skipped');
    expect(statuses(snapshot).phases['build']).toBe('failed');
  });

  it('fails the run with the reason when discovery failed', () => {
    // Act
    const { snapshot, points } = reconcile([
      job(discoveryJob, {
        status: 'failed',
        started_at: at(1),
        completed_at: at(2),
        error: 'no .forge/repo.cue',
      }),
    ]);

    // Assert
    expect(snapshot.run).toMatchObject({
      status: 'failed',
      completedAt: at(2),
      error: 'discovery failed: no .forge/repo.cue',
    });
    expect(points).toEqual(['completed']);
  });

  it('never moves a task back: a late running record after completion changes nothing', () => {
    // Arrange
    const done = reconcile([discovered, completedTask(buildApi, ['compile', 'vet'], 3, 5)]);

    // Act
    const late = reconcile(
      [job(buildApi, { status: 'running', started_at: at(3) })],
      discovery(),
      done.snapshot,
    );

    // Assert
    expect(late.snapshot).toEqual(done.snapshot);
  });
});
