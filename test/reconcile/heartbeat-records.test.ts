import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it, type TestContext } from 'vitest';
import { BlobWriter } from '../../adapters/embedded/blob-writer.js';
import { EmbeddedBlobStore } from '../../adapters/embedded/embedded-blob-store.js';
import { EmbeddedJobStore } from '../../adapters/embedded/embedded-job-store.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import type { JobStreamRecord } from '../../core/contracts/job-stream.js';
import { discoveryJobId, taskJobId } from '../../core/contracts/jobs.js';
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import { StreamReconciler } from '../../functions/reconcile/stream-reconciler.js';
import { useTestDatabase } from '../support/postgres-database.js';
import {
  createSampleRun,
  RecordingStatusEventSink,
  sampleDiscoveryOutput,
} from '../support/postgres-run-fixtures.js';

const database = useTestDatabase();

const claim = { workerId: 'task-1', heartbeatTimeoutMs: 60_000 };
const stepStart = new Date().toISOString();

/**
 * A reconciler whose database pool notes every statement it sends (`statements`), over an
 * embedded job store whose changes are recorded, not applied, and an embedded results bucket.
 */
async function arrange(context: TestContext) {
  const root = await mkdtemp(join(tmpdir(), 'forge-heartbeats-'));
  const writer = new BlobWriter(root);
  const results = new EmbeddedBlobStore({
    root,
    bucket: 'forge-results',
    presigner: { presign: () => 'http://127.0.0.1/unused' },
    writer,
  });
  const jobs = new EmbeddedJobStore();
  const statements: string[] = [];
  const sql = postgres(database.current.url, {
    max: 2,
    onnotice: () => undefined,
    transform: { undefined: null },
    debug: (_connection, query) => statements.push(query),
  });
  const sink = new RecordingStatusEventSink();
  const reconciler = new StreamReconciler({
    runs: new PostgresRunRepository({ sql }),
    results,
    sink,
  });
  // The test's own reads and writes go through another pool, which notes nothing.
  const runs = new PostgresRunRepository({ sql: database.current.sql });
  const records: JobStreamRecord[] = [];
  const stopRecording = jobs.subscribe((event) => {
    records.push(...event.Records);
    return Promise.resolve();
  });
  context.onTestFinished(async () => {
    await stopRecording();
    await jobs.close();
    await sql.end({ timeout: 5 });
    await writer.close();
    await rm(root, { recursive: true, force: true });
  });
  /** The changes written since the last call (the feed delivers them asynchronously). */
  const takeRecords = async (count: number): Promise<JobStreamRecord[]> => {
    for (let wait = 0; wait < 200 && records.length < count; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (records.length !== count) {
      throw new Error(`expected ${count} change records, the feed has ${records.length}`);
    }
    return records.splice(0);
  };
  return { results, jobs, runs, sink, reconciler, statements, takeRecords };
}

/** The changes of a run's discovery up to its completion, its result stored. */
async function discover(
  jobs: EmbeddedJobStore,
  results: EmbeddedBlobStore,
  runId: string,
): Promise<void> {
  const discovery = discoveryJobId(runId);
  await jobs.create({ job_id: discovery, run_id: runId, type: 'discovery' });
  await jobs.claim(discovery, { ...claim, workerId: 'discovery-1' });
  const key = discoveryResultKey(runId);
  await results.put(key, JSON.stringify(sampleDiscoveryOutput()), {
    contentType: 'application/json',
  });
  await jobs.transition(discovery, 'completed', { result_location: results.locationOf(key) });
}

describe('StreamReconciler and heartbeat-only change records', () => {
  it('skips heartbeats before any database work and applies the progress beside them', async (context) => {
    // Arrange: two runs with the same history; build/api running under task-1 in both.
    const { results, jobs, runs, sink, reconciler, statements, takeRecords } =
      await arrange(context);
    const run = await createSampleRun(runs);
    const twin = await createSampleRun(runs);
    const buildApi = taskJobId(run.id, 'build', 'api');
    const twinBuildApi = taskJobId(twin.id, 'build', 'api');
    for (const [runId, jobId] of [
      [run.id, buildApi],
      [twin.id, twinBuildApi],
    ] as const) {
      await discover(jobs, results, runId);
      await jobs.create({ job_id: jobId, run_id: runId, type: 'task' });
      await jobs.claim(jobId, claim);
    }
    const history = await reconciler.handleBatch({ Records: await takeRecords(10) });
    await jobs.heartbeat(buildApi, 'task-1');
    const [firstBeat] = await takeRecords(1);
    await jobs.updateStep(buildApi, 'compile', { status: 'running', started_at: stepStart });
    await jobs.heartbeat(buildApi, 'task-1');
    const [progress, secondBeat] = await takeRecords(2);
    await jobs.updateStep(twinBuildApi, 'compile', { status: 'running', started_at: stepStart });
    const [twinProgress] = await takeRecords(1);
    const before = await runs.getRun(run.id);
    const auditBefore = await runs.auditTrail(run.id);
    const eventsBefore = sink.eventsOf(run.id);

    // Act
    statements.length = 0;
    const beatsOnly = await reconciler.handleBatch({ Records: [firstBeat!, secondBeat!] });
    const statementsForBeats = statements.splice(0);
    const afterBeats = await runs.getRun(run.id);
    const auditAfterBeats = await runs.auditTrail(run.id);
    const mixed = await reconciler.handleBatch({ Records: [firstBeat!, progress!, secondBeat!] });
    const statementsForMixed = statements.splice(0);
    const twinAlone = await reconciler.handleBatch({ Records: [twinProgress!] });
    const statementsForProgressAlone = statements.splice(0);

    // Assert
    expect([history, beatsOnly, mixed, twinAlone]).toEqual(
      Array.from({ length: 4 }, () => ({ batchItemFailures: [] })),
    );
    expect(statementsForBeats).toEqual([]);
    expect(afterBeats).toEqual(before);
    expect(auditAfterBeats).toEqual(auditBefore);
    expect(statementsForMixed.length).toBeGreaterThan(0);
    expect(statementsForMixed).toHaveLength(statementsForProgressAlone.length);
    const compile = (await runs.getRun(run.id))?.phases[0]?.tasks[0]?.steps[0];
    expect(compile).toMatchObject({ name: 'compile', status: 'running' });
    const added = (await runs.auditTrail(run.id)).slice(auditBefore.length);
    expect(added.map((entry) => [entry.entityType, entry.toStatus, entry.actor])).toEqual([
      ['step', 'running', 'worker:task-1'],
    ]);
    expect(sink.eventsOf(run.id)).toEqual(eventsBefore);
  });

  it('sends no status events on a heartbeat, even while events wait to be sent', async (context) => {
    // Arrange: the discovery job's first record fails to send the run's events; it heartbeats.
    const { jobs, runs, sink, reconciler, statements, takeRecords } = await arrange(context);
    const run = await createSampleRun(runs);
    const discovery = discoveryJobId(run.id);
    await jobs.create({ job_id: discovery, run_id: run.id, type: 'discovery' });
    await jobs.claim(discovery, { ...claim, workerId: 'discovery-1' });
    await jobs.heartbeat(discovery, 'discovery-1');
    const [created, claimed, beat] = await takeRecords(3);
    sink.failNext();
    const refused = await reconciler.handleBatch({ Records: [created!] });
    const queuedWhileRefused = sink.eventsOf(run.id);

    // Act
    statements.length = 0;
    const beatBatch = await reconciler.handleBatch({ Records: [beat!] });
    const statementsForBeat = statements.splice(0);
    const eventsAfterBeat = sink.eventsOf(run.id);
    const redelivered = await reconciler.handleBatch({ Records: [created!, claimed!, beat!] });

    // Assert
    expect(refused.batchItemFailures).toEqual([{ itemIdentifier: created!.eventID }]);
    expect(queuedWhileRefused).toEqual([]);
    expect(beatBatch.batchItemFailures).toEqual([]);
    expect(statementsForBeat).toEqual([]);
    expect(eventsAfterBeat).toEqual([]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(sink.eventsOf(run.id).map((event) => event.point)).toEqual(['created']);
  });
});
