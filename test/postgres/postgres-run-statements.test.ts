import { describe, expect, it } from 'vitest';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import type { PipelineRun } from '../../core/ports/run-repository.js';
import { applyJobRecord } from '../../core/run-progress/apply-job-record.js';
import { useTestDatabase } from '../support/postgres-database.js';
import {
  createSampleRun,
  randomCommitSha,
  RecordingStatusEventSink,
  sampleDiscoveryOutput,
  uniqueRepositoryName,
} from '../support/postgres-run-fixtures.js';

/*
 * What the repository's single statements must get right: a new run, its audit entry and its
 * `created` event written together by one statement; a run read with everything below it by
 * one statement (times exactly as the rules wrote them); the outbox taken and deleted by one.
 */

const database = useTestDatabase();

function repositoryAt(now: Date): PostgresRunRepository {
  return new PostgresRunRepository({ sql: database.current.sql, now: () => now });
}

describe('PostgresRunRepository: run creation in one statement', () => {
  it('announces a new run with its own row: id, commit, start time and GitHub context', async () => {
    // Arrange
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const name = uniqueRepositoryName();
    await runs.registerRepository(name, `https://github.com/${name}.git`);
    const sink = new RecordingStatusEventSink();

    // Act
    const { created, run } = await runs.createRun({
      repository: name,
      commit_sha: randomCommitSha(),
      tag: 'v1.2.3',
      trigger_type: 'pull_request',
      github_context: { pr_number: 12, run_id: '77', context: 'ci/forge' },
      triggeredBy: 'octocat (repo:x)',
    });
    const sent = await runs.flushStatusEvents(sink, run.id);

    // Assert
    expect(created).toBe(true);
    expect(run).toMatchObject({
      repository: name,
      cloneUrl: `https://github.com/${name}.git`,
      branch: null,
      tag: 'v1.2.3',
      status: 'pending',
      workflowName: null,
      completedAt: null,
    });
    expect(sent).toBe(1);
    expect(sink.eventsOf(run.id)).toEqual([
      {
        run_id: run.id,
        repository: name,
        commit_sha: run.commitSha,
        point: 'created',
        run_status: 'pending',
        sequence: 1,
        groups_total: 0,
        groups_completed: 0,
        started_at: run.startedAt,
        completed_at: null,
        target_url: null,
        github_context: { pr_number: 12, run_id: '77', context: 'ci/forge' },
        failure: null,
        tasks: [],
      },
    ]);
    expect(await runs.auditTrail(run.id)).toMatchObject([
      {
        entityType: 'run',
        entityId: run.id,
        fromStatus: null,
        toStatus: 'pending',
        actor: 'octocat (repo:x)',
        details: { trigger_type: 'pull_request', commit_sha: run.commitSha },
      },
    ]);
  });

  it('returns the existing run for a known commit and writes nothing more', async () => {
    // Arrange
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const first = await createSampleRun(runs);

    // Act
    const again = await runs.createRun({
      repository: first.repository,
      commit_sha: first.commitSha,
      branch: 'other',
      trigger_type: 'manual',
      triggeredBy: 'someone-else',
    });

    // Assert
    expect(again).toEqual({ created: false, run: first });
    expect(await runs.auditTrail(first.id)).toHaveLength(1);
    const sink = new RecordingStatusEventSink();
    expect(await runs.flushStatusEvents(sink, first.id)).toBe(1);
  });
});

describe('PostgresRunRepository: a submission recorded with the claim of its events', () => {
  it('records the workflow and sends the created event linking to it, once', async () => {
    // Arrange
    const runs = new PostgresRunRepository({
      sql: database.current.sql,
      statusTargetUrl: ({ workflowName }) => `https://argo.example.com/workflows/${workflowName}`,
    });
    const run = await createSampleRun(runs);
    const sink = new RecordingStatusEventSink();

    // Act
    const submission = await runs.recordSubmission(run.id, 'forge-run-7', sink);
    const again = await runs.flushStatusEvents(sink, run.id);

    // Assert
    expect(submission).toEqual({ sent: 1 });
    expect(again).toBe(0);
    expect(sink.eventsOf(run.id)).toMatchObject([
      {
        point: 'created',
        sequence: 1,
        target_url: 'https://argo.example.com/workflows/forge-run-7',
      },
    ]);
    expect((await runs.getRun(run.id))?.workflowName).toBe('forge-run-7');
  });
});

describe('PostgresRunRepository: a run read in one statement', () => {
  it('reads every time exactly as the progress rules wrote it (UTC, milliseconds)', async () => {
    // Arrange
    const discoveredAt = '2030-01-01T00:00:02.000Z';
    const stepStartedAt = '2030-01-01T00:00:03.456Z';
    const run = await createSampleRun(repositoryAt(new Date(discoveredAt)));
    await repositoryAt(new Date(discoveredAt)).updateProgress(run.id, (draft) =>
      applyJobRecord(
        draft,
        {
          job_id: `${run.id}/discovery`,
          run_id: run.id,
          type: 'discovery',
          status: 'completed',
          worker_id: 'discovery-1',
          created_at: '2030-01-01T00:00:00.000Z',
          updated_at: discoveredAt,
          started_at: '2030-01-01T00:00:01.000Z',
          completed_at: discoveredAt,
          ttl: 1,
          cancel_requested: false,
        },
        sampleDiscoveryOutput(),
      ),
    );
    const runs = repositoryAt(new Date(stepStartedAt));
    const stepId = (await runs.getRun(run.id))?.phases[0]?.tasks[0]?.steps[0]?.id ?? '';

    // Act
    await runs.updateStepStatus(stepId, { status: 'running' }, 'worker:w1');
    const detail = await runs.getRun(run.id);

    // Assert
    const task = detail?.phases[0]?.tasks[0];
    expect(detail).toMatchObject({ status: 'running', discoveredAt });
    expect(detail?.phases[0]).toMatchObject({ name: 'build', startedAt: stepStartedAt });
    expect(task).toMatchObject({ project: 'api', status: 'running', startedAt: stepStartedAt });
    expect(task?.steps.map((step) => [step.name, step.status, step.startedAt])).toEqual([
      ['compile', 'running', stepStartedAt],
      ['vet', 'pending', null],
    ]);
  });
});

describe('PostgresRunRepository: the status event outbox', () => {
  it('sends the events of every run in run and sequence order, each once', async () => {
    // Arrange
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const created: PipelineRun[] = [];
    for (let index = 0; index < 3; index += 1) created.push(await createSampleRun(runs));
    for (const run of created) await runs.cancelRun(run.id, 'user:alice', 'not needed');
    const sink = new RecordingStatusEventSink();

    // Act
    const sent = await runs.flushStatusEvents(sink);
    const again = await runs.flushStatusEvents(sink);

    // Assert
    expect(sent).toBeGreaterThanOrEqual(6);
    expect(again).toBe(0);
    const ours = sink.events.filter((event) => created.some((run) => run.id === event.run_id));
    const expected = [...created]
      .map((run) => run.id)
      .sort()
      .flatMap((runId) => [
        [runId, 1, 'created'],
        [runId, 2, 'completed'],
      ]);
    expect(ours.map((event) => [event.run_id, event.sequence, event.point])).toEqual(expected);
  });

  it('gives a concurrent flusher nothing that another one is sending', async () => {
    // Arrange
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const run = await createSampleRun(runs);
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let publishing = () => {};
    const published = new Promise<void>((resolve) => {
      publishing = resolve;
    });
    const slow = new RecordingStatusEventSink();
    const slowSink = {
      publish: async (events: Parameters<RecordingStatusEventSink['publish']>[0]) => {
        publishing();
        await released;
        await slow.publish(events);
      },
    };
    const other = new RecordingStatusEventSink();

    // Act
    const first = runs.flushStatusEvents(slowSink, run.id);
    await published;
    const second = await runs.flushStatusEvents(other, run.id);
    release();
    const sentByFirst = await first;

    // Assert
    expect(second).toBe(0);
    expect(other.events).toEqual([]);
    expect(sentByFirst).toBe(1);
    expect(slow.eventsOf(run.id).map((event) => event.point)).toEqual(['created']);
    expect(await runs.flushStatusEvents(other, run.id)).toBe(0);
  });

  it('sends again the events of a flusher that died, once its claim has lapsed', async () => {
    // Arrange: a flusher claimed the event, then vanished without sending it.
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const run = await createSampleRun(runs);
    const sql = database.current.sql;
    await sql`
      UPDATE status_event_outbox SET claimed_until = now() + interval '1 minute'
      WHERE run_id = ${run.id}`;
    const sink = new RecordingStatusEventSink();

    // Act
    const whileClaimed = await runs.flushStatusEvents(sink, run.id);
    await sql`
      UPDATE status_event_outbox SET claimed_until = now() - interval '1 second'
      WHERE run_id = ${run.id}`;
    const afterTheClaim = await runs.flushStatusEvents(sink, run.id);

    // Assert
    expect(whileClaimed).toBe(0);
    expect(afterTheClaim).toBe(1);
    expect(sink.eventsOf(run.id).map((event) => event.point)).toEqual(['created']);
  });
});
