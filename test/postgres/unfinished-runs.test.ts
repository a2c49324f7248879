import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import { applyJobRecord } from '../../core/run-progress/apply-job-record.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres-database.js';
import {
  completedDiscoveryRecord,
  createSampleRun,
  RecordingStatusEventSink,
  sampleDiscoveryOutput,
} from '../support/postgres-run-fixtures.js';

/*
 * `cancelUnfinishedRuns` looks at every run of the database, so this file has a database of its
 * own: no other test's runs are there.
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

describe('PostgresRunRepository.cancelUnfinishedRuns', () => {
  it('cancels every run that has not ended, oldest first, and leaves ended runs alone', async () => {
    // Arrange
    const runs = new PostgresRunRepository({ sql: database.sql });
    const pending = await createSampleRun(runs);
    const running = await createSampleRun(runs);
    await runs.updateProgress(running.id, (draft) =>
      applyJobRecord(draft, completedDiscoveryRecord(running.id), sampleDiscoveryOutput()),
    );
    const failed = await createSampleRun(runs);
    await runs.updateRunStatus(failed.id, 'failed', 'engine', 'deadline passed');
    const reason = 'the platform stopped while the run was going on';

    // Act
    const cancelled = await runs.cancelUnfinishedRuns('embedded-platform', reason);
    const again = await runs.cancelUnfinishedRuns('embedded-platform', reason);

    // Assert
    expect(cancelled).toEqual([pending.id, running.id]);
    expect(again).toEqual([]);
    expect(await runs.getRun(pending.id)).toMatchObject({ status: 'cancelled', error: reason });
    const stopped = await runs.getRun(running.id);
    expect(stopped).toMatchObject({ status: 'cancelled', error: reason });
    expect(stopped?.phases.flatMap((phase) => phase.tasks.map((task) => task.status))).toEqual([
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(await runs.getRun(failed.id)).toMatchObject({
      status: 'failed',
      error: 'deadline passed',
    });
    const trail = await runs.auditTrail(running.id);
    expect(
      trail.find((entry) => entry.entityType === 'run' && entry.toStatus === 'cancelled'),
    ).toMatchObject({
      fromStatus: 'running',
      actor: 'embedded-platform',
      details: { reason },
    });
    const sink = new RecordingStatusEventSink();
    await runs.flushStatusEvents(sink, pending.id);
    expect(sink.eventsOf(pending.id).map((event) => event.point)).toEqual(['created', 'completed']);
  });
});
