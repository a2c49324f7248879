import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { BlobWriter } from '../../adapters/embedded/blob-writer.js';
import { EmbeddedBlobStore } from '../../adapters/embedded/embedded-blob-store.js';
import { EmbeddedJobStore } from '../../adapters/embedded/embedded-job-store.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import type { JobStreamEvent, JobStreamRecord } from '../../core/contracts/job-stream.js';
import { discoveryResultKey, stepLogKey } from '../../core/job-plane/blob-keys.js';
import type { RunDetail } from '../../core/ports/run-repository.js';
import { StreamReconciler } from '../../functions/reconcile/stream-reconciler.js';
import { useTestDatabase } from '../support/postgres-database.js';
import { createSampleRun, RecordingStatusEventSink } from '../support/postgres-run-fixtures.js';
import { driveSampleRun } from './sample-run-driver.js';

const database = useTestDatabase();

const failingCompile = { phase: 'build', project: 'api', step: 'compile' } as const;

/** A reconciler over the test database, an embedded results bucket and job store. */
async function arrange(context: TestContext) {
  const root = await mkdtemp(join(tmpdir(), 'forge-reconcile-'));
  const writer = new BlobWriter(root);
  const results = new EmbeddedBlobStore({
    root,
    bucket: 'forge-results',
    presigner: { presign: () => 'http://127.0.0.1/unused' },
    writer,
  });
  const jobs = new EmbeddedJobStore({
    feed: {
      delivery: { maxAttempts: 3, backoff: { baseDelayMs: 10, maxDelayMs: 50, jitterMs: 0 } },
    },
  });
  const runs = new PostgresRunRepository({ sql: database.current.sql });
  const sink = new RecordingStatusEventSink();
  const reconciler = new StreamReconciler({ runs, results, sink });
  context.onTestFinished(async () => {
    await jobs.close();
    await writer.close();
    await rm(root, { recursive: true, force: true });
  });
  return { results, jobs, runs, sink, reconciler };
}

/** Records every change the feed carries for `runId`, without applying anything. */
function recordFeed(jobs: EmbeddedJobStore, runId: string) {
  const records: JobStreamRecord[] = [];
  const stop = jobs.subscribe((event) => {
    records.push(...event.Records.filter((record) => jobIdOf(record).startsWith(runId)));
    return Promise.resolve();
  });
  return { records, stop };
}

function jobIdOf(record: JobStreamRecord): string {
  const key = record.dynamodb.Keys['job_id'];
  return key !== undefined && 'S' in key ? key.S : '';
}

/** The same records for another run: every mention of `from` becomes `to`. */
function retarget(
  records: readonly JobStreamRecord[],
  from: string,
  to: string,
): JobStreamRecord[] {
  return JSON.parse(JSON.stringify(records).replaceAll(from, to)) as JobStreamRecord[];
}

/** A fixed permutation (seeded), so a failure can be replayed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const shuffled = [...items];
  let state = seed;
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const other = state % (index + 1);
    [shuffled[index], shuffled[other]] = [shuffled[other] as T, shuffled[index] as T];
  }
  return shuffled;
}

/**
 * A run's progress without what differs between two runs of the same records: ids, names,
 * row bookkeeping and the run's creation time.
 */
function progressOf(run: RunDetail | undefined): unknown {
  if (run === undefined) return undefined;
  const { startedAt: _createdWhen, ...progress } = run;
  const text = JSON.stringify(progress).replaceAll(run.id, 'RUN');
  return JSON.parse(text, (key, value: unknown) =>
    ['id', 'createdAt', 'updatedAt', 'commitSha', 'repository', 'cloneUrl'].includes(key)
      ? undefined
      : value,
  );
}

describe('StreamReconciler over the embedded job store', () => {
  it('reconciles a whole run, step by step, and tells GitHub at each status point', async (context) => {
    // Arrange
    const { results, jobs, runs, sink, reconciler } = await arrange(context);
    const run = await createSampleRun(runs);
    const stop = jobs.subscribe(reconciler.handleBatch);

    // Act
    await driveSampleRun(jobs, results, run.id, { releaseEnabled: true });
    await stop();

    // Assert
    const detail = await runs.getRun(run.id);
    const jobRecords = await jobs.listByRun(run.id);
    const lastEnd = jobRecords
      .map((record) => record.completed_at ?? '')
      .sort()
      .at(-1);
    expect(detail).toMatchObject({ status: 'success', completedAt: lastEnd, error: null });
    expect(detail?.phases.map((phase) => phase.status)).toEqual(['success', 'success', 'success']);
    const tasks = detail?.phases.flatMap((phase) => phase.tasks) ?? [];
    expect(tasks.map((task) => task.status)).toEqual(['success', 'success', 'success', 'success']);
    for (const task of tasks) {
      const record = jobRecords.find((job) => job.job_id === task.jobId);
      expect(task).toMatchObject({
        startedAt: record?.started_at,
        completedAt: record?.completed_at,
      });
    }
    const compile = tasks[0]?.steps[0];
    expect(compile).toMatchObject({
      name: 'compile',
      status: 'success',
      exitCode: 0,
      logsKey: stepLogKey(run.id, 'build', 'api', 'compile'),
    });
    expect(detail?.releases).toMatchObject([{ project: 'api', status: 'success' }]);
    const trail = await runs.auditTrail(run.id);
    expect(
      trail.filter((entry) => entry.entityType === 'task').map((entry) => entry.actor),
    ).toEqual(Array.from({ length: 8 }, () => 'worker:task-1'));
    expect(
      trail.filter((entry) => entry.entityType === 'run').map((entry) => entry.toStatus),
    ).toEqual(['pending', 'discovering', 'running', 'success']);
    const events = sink.eventsOf(run.id);
    expect(
      events.map((event) => [
        event.point,
        event.sequence,
        event.run_status,
        event.groups_completed,
      ]),
    ).toEqual([
      ['created', 1, 'pending', 0],
      ['discovered', 2, 'running', 0],
      ['group_completed', 3, 'running', 1],
      ['group_completed', 4, 'running', 2],
      ['completed', 5, 'success', 2],
    ]);
    expect(events.at(-1)).toMatchObject({
      groups_total: 2,
      failure: null,
      completed_at: lastEnd,
    });
    expect(events.at(-1)?.tasks.every((task) => task.duration_ms !== null)).toBe(true);
  });

  it('fails fast and tells GitHub which step failed', async (context) => {
    // Arrange
    const { results, jobs, runs, sink, reconciler } = await arrange(context);
    const run = await createSampleRun(runs);
    const stop = jobs.subscribe(reconciler.handleBatch);

    // Act
    await driveSampleRun(jobs, results, run.id, { failing: failingCompile });
    await stop();

    // Assert
    const detail = await runs.getRun(run.id);
    expect(detail).toMatchObject({
      status: 'failed',
      error: 'build/api/compile: step compile failed: exit status 2',
    });
    expect(detail?.phases.map((phase) => [phase.name, phase.status])).toEqual([
      ['build', 'failed'],
      ['audit', 'skipped'],
      ['test', 'skipped'],
    ]);
    expect(detail?.phases[0]?.tasks[0]?.steps.map((step) => [step.status, step.exitCode])).toEqual([
      ['failed', 2],
      ['skipped', null],
    ]);
    expect(sink.eventsOf(run.id).map((event) => event.point)).toEqual([
      'created',
      'discovered',
      'completed',
    ]);
    expect(sink.eventsOf(run.id).at(-1)).toMatchObject({
      run_status: 'failed',
      groups_completed: 0,
      failure: {
        phase: 'build',
        project: 'api',
        step: 'compile',
        message: 'step compile failed: exit status 2',
      },
    });
  });

  it('leaves the same state when a batch is applied twice, or its records shuffled', async (context) => {
    // Arrange
    const { results, jobs, runs, sink, reconciler } = await arrange(context);
    const run = await createSampleRun(runs);
    const twin = await createSampleRun(runs);
    const feed = recordFeed(jobs, run.id);
    await driveSampleRun(jobs, results, run.id, { failing: failingCompile });
    await feed.stop();
    const discovery = await results.get(discoveryResultKey(run.id));
    await results.put(discoveryResultKey(twin.id), discovery ?? '');
    const batch: JobStreamEvent = { Records: feed.records };
    const shuffled: JobStreamEvent = {
      Records: shuffle(retarget(feed.records, run.id, twin.id), 20_300_101),
    };

    // Act
    const first = await reconciler.handleBatch(batch);
    const once = await runs.getRun(run.id);
    const auditOnce = await runs.auditTrail(run.id);
    const eventsOnce = sink.eventsOf(run.id).length;
    const second = await reconciler.handleBatch(batch);
    const twice = await runs.getRun(run.id);
    const third = await reconciler.handleBatch(shuffled);
    const twinState = await runs.getRun(twin.id);

    // Assert
    expect([first, second, third]).toEqual([
      { batchItemFailures: [] },
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    expect(feed.records.length).toBeGreaterThan(10);
    expect(once?.status).toBe('failed');
    expect(progressOf(twice)).toEqual(progressOf(once));
    expect(await runs.auditTrail(run.id)).toHaveLength(auditOnce.length);
    expect(sink.eventsOf(run.id)).toHaveLength(eventsOnce);
    expect(progressOf(twinState)).toEqual(progressOf(once));
  });

  it('fails the record whose events could not be sent, and sends them when it comes again', async (context) => {
    // Arrange
    const { results, jobs, runs, sink, reconciler } = await arrange(context);
    const run = await createSampleRun(runs);
    const feed = recordFeed(jobs, run.id);
    await driveSampleRun(jobs, results, run.id);
    await feed.stop();
    const [first, ...rest] = feed.records as [JobStreamRecord, ...JobStreamRecord[]];
    sink.failNext();

    // Act
    const refused = await reconciler.handleBatch({ Records: [first] });
    const pendingWhileRefused = sink.eventsOf(run.id).length;
    const redelivered = await reconciler.handleBatch({ Records: [first, ...rest] });

    // Assert
    expect(refused.batchItemFailures).toEqual([{ itemIdentifier: first.eventID }]);
    expect(pendingWhileRefused).toBe(0);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(sink.eventsOf(run.id).map((event) => event.sequence)).toEqual([1, 2, 3, 4]);
  });

  it('reports records it cannot apply while applying the rest of the batch', async (context) => {
    // Arrange
    const { results, jobs, runs, reconciler } = await arrange(context);
    const run = await createSampleRun(runs);
    const feed = recordFeed(jobs, run.id);
    await driveSampleRun(jobs, results, run.id);
    await feed.stop();
    const [template] = feed.records as [JobStreamRecord];
    const unknownRun = {
      ...retarget([template], run.id, randomUUID())[0]!,
      eventID: 'unknown-run',
      dynamodb: { ...template.dynamodb, SequenceNumber: '900000000000000000001' },
    };
    const unknownRunRecord = retarget([unknownRun], run.id, randomUUID())[0]!;
    const malformed: JobStreamRecord = {
      ...template,
      eventID: 'malformed-image',
      dynamodb: {
        ...template.dynamodb,
        SequenceNumber: '900000000000000000002',
        NewImage: { job_id: { S: `${run.id}/discovery` }, status: { S: 'exploded' } },
      },
    };
    const middle = Math.floor(feed.records.length / 2);
    const batch: JobStreamEvent = {
      Records: [
        unknownRunRecord,
        ...feed.records.slice(0, middle),
        malformed,
        ...feed.records.slice(middle),
      ],
    };

    // Act
    const response = await reconciler.handleBatch(batch);
    const lambdaResponse = await reconciler.handleLambdaEvent(batch);

    // Assert
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'unknown-run' },
      { itemIdentifier: 'malformed-image' },
    ]);
    expect(lambdaResponse.batchItemFailures).toEqual([
      { itemIdentifier: '900000000000000000001' },
      { itemIdentifier: '900000000000000000002' },
    ]);
    expect((await runs.getRun(run.id))?.status).toBe('success');
  });
});
