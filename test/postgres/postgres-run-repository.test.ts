import { describe, expect, it } from 'vitest';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import { taskJobId } from '../../core/contracts/jobs.js';
import { applyJobRecord } from '../../core/run-progress/apply-job-record.js';
import {
  ExecutionNotFoundError,
  RepositoryNotRegisteredError,
  RunNotFoundError,
} from '../../core/run-progress/run-progress-errors.js';
import { useTestDatabase } from '../support/postgres-database.js';
import {
  completedDiscoveryRecord,
  createSampleRun,
  randomCommitSha,
  RecordingStatusEventSink,
  sampleDiscoveryOutput,
  uniqueRepositoryName,
} from '../support/postgres-run-fixtures.js';

const database = useTestDatabase();

function repository(): PostgresRunRepository {
  return new PostgresRunRepository({
    sql: database.current.sql,
    statusTargetUrl: (run) =>
      run.workflowName === null ? null : `https://argo.example.com/workflows/${run.workflowName}`,
  });
}

/** Completes the run's discovery, as the reconciler would from the discovery job's record. */
async function discover(runs: PostgresRunRepository, runId: string, releaseEnabled = false) {
  await runs.updateProgress(runId, (draft) =>
    applyJobRecord(
      draft,
      completedDiscoveryRecord(runId),
      sampleDiscoveryOutput({ releaseEnabled }),
    ),
  );
}

describe('PostgresRunRepository: repositories and run creation', () => {
  it('registers a repository once, updating its clone URL when registered again', async () => {
    // Arrange
    const runs = repository();
    const name = uniqueRepositoryName();

    // Act
    const first = await runs.registerRepository(name, 'https://example.com/old.git');
    const second = await runs.registerRepository(name, 'https://example.com/new.git');

    // Assert
    expect(second.id).toBe(first.id);
    expect(await runs.getRepository(name)).toMatchObject({
      fullName: name,
      cloneUrl: 'https://example.com/new.git',
    });
    expect(await runs.getRepository(uniqueRepositoryName())).toBeUndefined();
  });

  it('refuses a run for a repository that is not registered', async () => {
    // Act
    const creating = repository().createRun({
      repository: uniqueRepositoryName(),
      commit_sha: randomCommitSha(),
      trigger_type: 'push',
      triggeredBy: 'github-actions',
    });

    // Assert
    await expect(creating).rejects.toBeInstanceOf(RepositoryNotRegisteredError);
  });

  it('makes ONE run of 20 concurrent identical creations, audited and announced once', async () => {
    // Arrange
    const runs = repository();
    const name = uniqueRepositoryName();
    await runs.registerRepository(name, `https://github.com/${name}.git`);
    const request = {
      repository: name,
      commit_sha: randomCommitSha(),
      branch: 'main',
      trigger_type: 'pull_request' as const,
      github_context: { pr_number: 7, context: 'ci/catalyst-forge' },
      triggeredBy: 'octocat',
    };

    // Act
    const results = await Promise.all(Array.from({ length: 20 }, () => runs.createRun(request)));

    // Assert
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const ids = new Set(results.map((result) => result.run.id));
    expect(ids.size).toBe(1);
    const [runId] = [...ids] as [string];
    const [count] = await database.current.sql<{ count: string }[]>`
      SELECT count(*) FROM pipeline_runs WHERE commit_sha = ${request.commit_sha}`;
    expect(count?.count).toBe('1');
    expect(results[0]?.run).toMatchObject({
      repository: name,
      status: 'pending',
      triggerType: 'pull_request',
      triggeredBy: 'octocat',
      githubContext: { pr_number: 7 },
    });
    expect(await runs.auditTrail(runId)).toMatchObject([
      { entityType: 'run', fromStatus: null, toStatus: 'pending', actor: 'octocat' },
    ]);
    const sink = new RecordingStatusEventSink();
    await runs.flushStatusEvents(sink, runId);
    expect(sink.eventsOf(runId).map((event) => [event.point, event.sequence])).toEqual([
      ['created', 1],
    ]);
  });
});

describe('PostgresRunRepository: reading and listing', () => {
  it('reads a run with its phases, tasks and steps in plan order, and its releases', async () => {
    // Arrange
    const runs = repository();
    const run = await createSampleRun(runs);
    await discover(runs, run.id, true);

    // Act
    const detail = await runs.getRun(run.id);

    // Assert
    expect(detail).toMatchObject({
      id: run.id,
      status: 'running',
      discoveredAt: '2030-01-01T00:00:02.000Z',
      discoveryOutput: sampleDiscoveryOutput({ releaseEnabled: true }),
    });
    expect(detail?.phases.map((phase) => [phase.name, phase.group, phase.tasks.length])).toEqual([
      ['build', 1, 2],
      ['audit', 2, 0],
      ['test', 2, 2],
    ]);
    const buildApi = detail?.phases[0]?.tasks[0];
    expect(buildApi).toMatchObject({
      jobId: taskJobId(run.id, 'build', 'api'),
      project: 'api',
      projectPath: 'services/api',
      status: 'pending',
    });
    expect(buildApi?.steps.map((step) => [step.name, step.action, step.target, step.run])).toEqual([
      ['compile', 'earthly', '+build', null],
      ['vet', 'shell', null, 'go vet ./...'],
    ]);
    expect(buildApi?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(detail?.releases).toMatchObject([{ project: 'api', status: 'pending' }]);
  });

  it('answers nothing for an unknown or malformed run id', async () => {
    // Arrange
    const runs = repository();

    // Act
    const unknown = await runs.getRun('00000000-0000-4000-8000-000000000000');
    const malformed = await runs.getRun("1' OR '1'='1");
    const recording = runs.recordSubmission(
      'not-a-uuid',
      'forge-x',
      new RecordingStatusEventSink(),
    );
    const recordingUnknown = runs.recordSubmission(
      '00000000-0000-4000-8000-000000000000',
      'forge-x',
      new RecordingStatusEventSink(),
    );

    // Assert
    expect(unknown).toBeUndefined();
    expect(malformed).toBeUndefined();
    await expect(recording).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(recordingUnknown).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('lists runs by repository and branch, newest first, a page at a time', async () => {
    // Arrange
    const runs = repository();
    const name = uniqueRepositoryName();
    const created = [];
    for (const branch of ['main', 'feature/x', 'main', 'main']) {
      created.push(await createSampleRun(runs, { repository: name, branch }));
    }
    const mainIds = created.filter((run) => run.branch === 'main').map((run) => run.id);

    // Act
    const firstPage = await runs.listRuns({
      repository: name,
      branch: 'main',
      limit: 2,
      offset: 0,
    });
    const secondPage = await runs.listRuns({
      repository: name,
      branch: 'main',
      limit: 2,
      offset: 2,
    });
    const everyBranch = await runs.listRuns({ repository: name, limit: 10, offset: 0 });

    // Assert
    expect(firstPage.total).toBe(3);
    expect([...firstPage.runs, ...secondPage.runs].map((run) => run.id)).toEqual(
      [...mainIds].reverse(),
    );
    expect(everyBranch.runs).toHaveLength(4);
    expect(everyBranch.total).toBe(4);
  });
});

describe('PostgresRunRepository: status changes', () => {
  it('moves tasks and steps by the transition rules and audits who did it', async () => {
    // Arrange
    const runs = repository();
    const run = await createSampleRun(runs);
    await discover(runs, run.id);
    const task = (await runs.getRun(run.id))?.phases[0]?.tasks[1];
    const stepId = task?.steps[0]?.id ?? '';
    const taskId = task?.id ?? '';

    // Act
    const started = await runs.updateStepStatus(stepId, { status: 'running' }, 'worker:w1');
    const stale = await runs.updateStepStatus(stepId, { status: 'pending' }, 'worker:w1');
    const finished = await runs.updateStepStatus(
      stepId,
      { status: 'success', exit_code: 0, logs_key: `${run.id}/build/web/bundle.log` },
      'worker:w1',
    );
    const late = await runs.updateStepStatus(stepId, { status: 'running' }, 'worker:w1');
    const taskDone = await runs.updateTaskStatus(taskId, { status: 'success' }, 'worker:w1');
    const afterEnd = await runs.updateTaskStatus(taskId, { status: 'failed' }, 'worker:w2');

    // Assert
    expect(started.transition).toEqual({ outcome: 'applied', status: 'running' });
    expect(finished.transition).toEqual({ outcome: 'applied', status: 'success' });
    expect(stale).toMatchObject({
      transition: { outcome: 'ignored', reason: 'stale' },
      status: 'running',
    });
    expect(late).toMatchObject({
      transition: { outcome: 'ignored', reason: 'terminal' },
      status: 'success',
    });
    expect(taskDone).toMatchObject({ runId: run.id, status: 'success', runStatus: 'running' });
    expect(afterEnd.transition).toEqual({ outcome: 'ignored', reason: 'terminal' });
    const step = (await runs.getRun(run.id))?.phases[0]?.tasks[1]?.steps[0];
    expect(step).toMatchObject({
      status: 'success',
      exitCode: 0,
      logsKey: `${run.id}/build/web/bundle.log`,
    });
    const trail = await runs.auditTrail(run.id);
    expect(
      trail
        .filter((entry) => entry.entityId === stepId || entry.entityId === taskId)
        .map((entry) => [entry.entityType, entry.fromStatus, entry.toStatus, entry.actor]),
    ).toEqual([
      ['step', 'pending', 'running', 'worker:w1'],
      ['task', 'pending', 'running', 'reconciler'],
      ['step', 'running', 'success', 'worker:w1'],
      ['task', 'running', 'success', 'worker:w1'],
    ]);
    expect(
      trail.find((entry) => entry.toStatus === 'running' && entry.entityType === 'phase'),
    ).toMatchObject({ actor: 'reconciler' });
  });

  it('refuses status changes of executions that do not exist', async () => {
    // Arrange
    const runs = repository();

    // Act
    const updates = await Promise.allSettled([
      runs.updateTaskStatus('00000000-0000-4000-8000-000000000000', { status: 'running' }, 'w1'),
      runs.updateStepStatus('nope', { status: 'running' }, 'w1'),
    ]);

    // Assert
    for (const update of updates) {
      expect(update).toMatchObject({
        status: 'rejected',
        reason: expect.any(ExecutionNotFoundError),
      });
    }
  });

  it('cancels a run: running work cancelled, waiting work skipped, then nothing more', async () => {
    // Arrange
    const runs = repository();
    const run = await createSampleRun(runs);
    await discover(runs, run.id);
    const detail = await runs.getRun(run.id);
    const buildApi = detail?.phases[0]?.tasks[0];
    await runs.updateStepStatus(buildApi?.steps[0]?.id ?? '', { status: 'running' }, 'worker:w1');

    // Act
    const cancelled = await runs.cancelRun(run.id, 'user:alice', 'superseded by a newer push');
    const again = await runs.cancelRun(run.id, 'user:bob');

    // Assert
    expect(cancelled).toMatchObject({
      result: { outcome: 'applied' },
      runStatus: 'cancelled',
      points: ['completed'],
    });
    expect(again).toMatchObject({ result: { outcome: 'unchanged' }, points: [] });
    const after = await runs.getRun(run.id);
    expect(after).toMatchObject({ status: 'cancelled', error: 'superseded by a newer push' });
    expect(after?.completedAt).not.toBeNull();
    expect(after?.phases.map((phase) => phase.status)).toEqual(['cancelled', 'skipped', 'skipped']);
    expect(after?.phases[0]?.tasks[0]?.steps.map((step) => step.status)).toEqual([
      'cancelled',
      'skipped',
    ]);
    expect(after?.phases[0]?.tasks[1]?.status).toBe('skipped');
  });

  it('fails a run an engine reports failed, skipping every task that never started', async () => {
    // Arrange
    const runs = repository();
    const run = await createSampleRun(runs);
    await discover(runs, run.id);

    // Act
    const failed = await runs.updateRunStatus(run.id, 'failed', 'engine', 'run deadline passed');
    const late = await runs.updateRunStatus(run.id, 'success', 'engine');

    // Assert
    expect(failed).toMatchObject({
      result: { outcome: 'applied', status: 'failed' },
      points: ['completed'],
    });
    expect(late.result).toEqual({ outcome: 'ignored', reason: 'terminal' });
    const after = await runs.getRun(run.id);
    expect(after).toMatchObject({ status: 'failed', error: 'run deadline passed' });
    expect(after?.phases.flatMap((phase) => phase.tasks.map((task) => task.status))).toEqual([
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
  });

  it('sends queued status events in sequence with the workflow link, keeping them when sending fails', async () => {
    // Arrange
    const runs = repository();
    const run = await createSampleRun(runs);
    const unreachable = new RecordingStatusEventSink();
    unreachable.failNext();
    const submission = await runs.recordSubmission(run.id, 'forge-run-1', unreachable);
    await discover(runs, run.id);
    const sink = new RecordingStatusEventSink();
    sink.failNext();

    // Act
    const failing = runs.flushStatusEvents(sink, run.id);
    await expect(failing).rejects.toThrow(/unreachable/);
    const sent = await runs.flushStatusEvents(sink, run.id);
    const nothingLeft = await runs.flushStatusEvents(sink, run.id);

    // Assert
    expect(submission).toMatchObject({ sent: 0, sendFailure: expect.any(Error) as unknown });
    expect((await runs.getRun(run.id))?.workflowName).toBe('forge-run-1');
    expect(sent).toBe(2);
    expect(nothingLeft).toBe(0);
    expect(sink.eventsOf(run.id)).toMatchObject([
      { point: 'created', sequence: 1, run_status: 'pending', groups_total: 0 },
      {
        point: 'discovered',
        sequence: 2,
        run_status: 'running',
        groups_total: 2,
        groups_completed: 0,
        target_url: 'https://argo.example.com/workflows/forge-run-1',
      },
    ]);
    expect(sink.eventsOf(run.id)[1]?.tasks).toHaveLength(4);
  });
});
