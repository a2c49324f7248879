/**
 * The one contract of the `JobStore` port (DESIGN.md section 5), run unchanged against every
 * adapter: `adapters/embedded/embedded-job-store.test.ts` and, on DynamoDB Local,
 * `adapters/aws/dynamo-job-store.test.ts`. Tests run concurrently on one store, each with a run
 * id of its own, so they also show that jobs of different runs never interfere.
 */
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'vitest';
import {
  discoveryJobId,
  JOB_RECORD_TTL_SECONDS,
  taskJobId,
  type JobRecord,
} from '../../core/contracts/jobs.js';
import {
  JobRecordFormatError,
  StepProgressFormatError,
} from '../../core/job-plane/job-record-changes.js';
import { JobNotFoundError } from '../../core/job-plane/job-plane-errors.js';
import type { CreateJobResult, JobStore } from '../../core/ports/job-store.js';

/** A store under test, and how to dispose of it. */
export interface JobStoreUnderTest {
  readonly store: JobStore;
  cleanup(): Promise<void>;
}

/** Makes a store; it may be shared by the tests of one suite (they use distinct run ids). */
export type MakeJobStore = () => Promise<JobStoreUnderTest>;

/** Declares the `JobStore` contract for one adapter; `makeStore` runs once per test. */
export function describeJobStoreContract(adapterName: string, makeStore: MakeJobStore): void {
  describe.concurrent(`JobStore contract: ${adapterName}`, () => {
    async function arrange(context: TestContext) {
      const subject = await makeStore();
      context.onTestFinished(() => subject.cleanup());
      const runId = `run-${randomUUID().slice(0, 8)}`;
      const jobId = taskJobId(runId, 'build', 'api');
      return { store: subject.store, runId, jobId };
    }

    it('records a new job as pending with its timestamps and a ttl of 7 days', async (context) => {
      const { store, runId, jobId } = await arrange(context);

      const result = await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      if (!result.created) throw new Error('the first submission must create the job');
      const { record } = result;
      context.expect(record).toMatchObject({
        job_id: jobId,
        run_id: runId,
        type: 'task',
        status: 'pending',
        cancel_requested: false,
      });
      context.expect(record.updated_at).toBe(record.created_at);
      context
        .expect(record.ttl)
        .toBe(Math.floor(Date.parse(record.created_at) / 1000) + JOB_RECORD_TTL_SECONDS);
      context.expect(await store.get(jobId)).toEqual(record);
    });

    it('refuses a second submission of a job id and returns the existing record', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      const first = await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.transition(jobId, 'running', { worker_id: 'worker-1' });
      const running = await store.get(jobId);

      const second = await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      context.expect(first.created).toBe(true);
      context.expect(second).toEqual({ created: false, existing: running });
      context.expect(await store.get(jobId)).toEqual(running);
    });

    it('refuses a submission whose id is not that of a job of its run and type', async (context) => {
      const { store, runId, jobId } = await arrange(context);

      const wrongType = store.create({ job_id: jobId, run_id: runId, type: 'discovery' });
      const wrongRun = store.create({ job_id: jobId, run_id: 'run-other', type: 'task' });
      const notAnId = store.create({ job_id: 'not/a/job/id/at/all', run_id: runId, type: 'task' });

      await context.expect(wrongType).rejects.toThrow(JobRecordFormatError);
      await context.expect(wrongRun).rejects.toThrow(JobRecordFormatError);
      await context.expect(notAnId).rejects.toThrow(JobRecordFormatError);
      context.expect(await store.get(jobId)).toBeUndefined();
    });

    it('refuses status changes it could not read back', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      const emptyWorker = store.transition(jobId, 'running', { worker_id: '' });

      await context.expect(emptyWorker).rejects.toThrow(JobRecordFormatError);
      context.expect((await store.get(jobId))?.status).toBe('pending');
    });

    it('answers an unknown job with undefined or JobNotFoundError', async (context) => {
      const { store, jobId } = await arrange(context);

      context.expect(await store.get(jobId)).toBeUndefined();
      await context.expect(store.transition(jobId, 'running')).rejects.toThrow(JobNotFoundError);
      await context
        .expect(store.updateStep(jobId, 'compile', { status: 'running' }))
        .rejects.toThrow(JobNotFoundError);
      await context.expect(store.requestCancel(jobId)).rejects.toThrow(JobNotFoundError);
      await context
        .expect(store.claim(jobId, { workerId: 'worker-1', heartbeatTimeoutMs: 1000 }))
        .rejects.toThrow(JobNotFoundError);
      await context.expect(store.heartbeat(jobId, 'worker-1')).rejects.toThrow(JobNotFoundError);
      await context.expect(store.release(jobId, 'worker-1')).rejects.toThrow(JobNotFoundError);
    });

    it('moves a job through its life, stamping start, end and what the worker reports', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      const { record: created } = createdRecord(
        await store.create({ job_id: jobId, run_id: runId, type: 'task' }),
      );

      const running = await store.transition(jobId, 'running', { worker_id: 'worker-1' });
      const completed = await store.transition(jobId, 'completed', {
        result_location: `s3://pipeline-results/${runId}/phases/build/api/compile.json`,
      });

      context.expect(running.outcome).toBe('applied');
      context.expect(running.record).toMatchObject({ status: 'running', worker_id: 'worker-1' });
      context.expect(running.record.started_at).toBeDefined();
      context.expect(running.record.completed_at).toBeUndefined();
      context.expect(completed.outcome).toBe('applied');
      context.expect(completed.record).toMatchObject({
        status: 'completed',
        worker_id: 'worker-1',
        started_at: running.record.started_at,
        result_location: `s3://pipeline-results/${runId}/phases/build/api/compile.json`,
        created_at: created.created_at,
        ttl: created.ttl,
      });
      context.expect(completed.record.completed_at).toBeDefined();
      context.expect(completed.record.updated_at >= running.record.updated_at).toBe(true);
      context.expect(await store.get(jobId)).toEqual(completed.record);
    });

    it('never moves a completed job back to running', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.transition(jobId, 'running');
      const completed = await store.transition(jobId, 'completed');

      const late = await store.transition(jobId, 'running', { worker_id: 'late-worker' });
      const failed = await store.transition(jobId, 'failed', { error: 'too late' });

      context
        .expect(late)
        .toEqual({ outcome: 'ignored', reason: 'terminal', record: completed.record });
      context.expect(failed).toMatchObject({ outcome: 'ignored', reason: 'terminal' });
      context.expect(await store.get(jobId)).toEqual(completed.record);
    });

    it('ignores a late running after an out-of-order pending to completed', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      const completed = await store.transition(jobId, 'completed');
      const late = await store.transition(jobId, 'running');
      const twice = await store.transition(jobId, 'completed');

      context.expect(completed.outcome).toBe('applied');
      context.expect(completed.record.started_at).toBeUndefined();
      context.expect(late).toMatchObject({ outcome: 'ignored', reason: 'terminal' });
      context.expect(twice).toEqual({ outcome: 'unchanged', record: completed.record });
      context.expect((await store.get(jobId))?.status).toBe('completed');
    });

    it('applies exactly one of many concurrent identical transitions', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          store.transition(jobId, 'running', { worker_id: `worker-${index}` }),
        ),
      );

      const applied = attempts.filter((attempt) => attempt.outcome === 'applied');
      context.expect(applied).toHaveLength(1);
      context.expect(attempts.filter((attempt) => attempt.outcome === 'unchanged')).toHaveLength(9);
      const stored = await store.get(jobId);
      context.expect(stored?.worker_id).toBe(applied[0]?.record.worker_id);
    });

    it('lets exactly one of concurrent different end statuses win', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.transition(jobId, 'running');

      const attempts = await Promise.all(
        (['completed', 'failed', 'cancelled', 'completed', 'failed', 'running'] as const).map(
          (status) => store.transition(jobId, status),
        ),
      );

      const applied = attempts.filter((attempt) => attempt.outcome === 'applied');
      context.expect(applied).toHaveLength(1);
      context.expect((await store.get(jobId))?.status).toBe(applied[0]?.record.status);
    });

    it('records step progress, merging what each update reports', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const startedAt = '2026-01-01T10:00:00.000Z';

      const running = await store.updateStep(jobId, 'unit-tests', {
        status: 'running',
        started_at: startedAt,
        log_key: `${runId}/build/api/unit-tests.log`,
      });
      const done = await store.updateStep(jobId, 'unit-tests', {
        status: 'success',
        exit_code: 0,
        completed_at: '2026-01-01T10:01:00.000Z',
        duration_ms: 60_000,
      });

      context.expect(running.outcome).toBe('applied');
      context.expect(done.outcome).toBe('applied');
      context.expect(done.record.steps).toEqual({
        'unit-tests': {
          status: 'success',
          started_at: startedAt,
          log_key: `${runId}/build/api/unit-tests.log`,
          exit_code: 0,
          completed_at: '2026-01-01T10:01:00.000Z',
          duration_ms: 60_000,
        },
      });
      context.expect(done.record.status).toBe('pending');
      context.expect(await store.get(jobId)).toEqual(done.record);
    });

    it('ignores late and duplicate step updates', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.updateStep(jobId, 'lint', { status: 'running' });
      const failed = await store.updateStep(jobId, 'lint', { status: 'failed', exit_code: 2 });

      const lateRunning = await store.updateStep(jobId, 'lint', { status: 'running' });
      const twice = await store.updateStep(jobId, 'lint', { status: 'failed', exit_code: 3 });
      await store.updateStep(jobId, 'package', { status: 'running' });
      const skippedAfterStart = await store.updateStep(jobId, 'package', { status: 'skipped' });

      context.expect(lateRunning).toMatchObject({ outcome: 'ignored', reason: 'terminal' });
      context.expect(twice.outcome).toBe('unchanged');
      context.expect(skippedAfterStart).toMatchObject({ outcome: 'ignored', reason: 'invalid' });
      const stored = await store.get(jobId);
      context.expect(stored?.steps?.['lint']).toEqual(failed.record.steps?.['lint']);
      context.expect(stored?.steps?.['package']?.status).toBe('running');
    });

    it('records concurrent updates of different steps without losing any', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const steps = ['compile', 'lint', 'unit-tests', 'integration', 'package'];

      const results = await Promise.all(
        steps.map((step) => store.updateStep(jobId, step, { status: 'running' })),
      );

      context.expect(results.map((result) => result.outcome)).toEqual(steps.map(() => 'applied'));
      const stored = await store.get(jobId);
      context.expect(Object.keys(stored?.steps ?? {}).sort()).toEqual([...steps].sort());
    });

    it('still records a step reported after its job ended', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.updateStep(jobId, 'compile', { status: 'running' });
      await store.transition(jobId, 'cancelled');

      const step = await store.updateStep(jobId, 'compile', { status: 'cancelled' });

      context.expect(step.outcome).toBe('applied');
      context.expect(step.record).toMatchObject({ status: 'cancelled' });
      context.expect(step.record.steps?.['compile']?.status).toBe('cancelled');
    });

    it('refuses a step name or progress that could not be stored', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      await context
        .expect(store.updateStep(jobId, 'a/b', { status: 'running' }))
        .rejects.toThrow(StepProgressFormatError);
      await context
        .expect(store.updateStep(jobId, 'compile', { status: 'running', duration_ms: -1 }))
        .rejects.toThrow(StepProgressFormatError);
      context.expect((await store.get(jobId))?.steps).toBeUndefined();
    });

    it('flags a running job for cancellation and leaves an ended job alone', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      const endedId = taskJobId(runId, 'build', 'web');
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.create({ job_id: endedId, run_id: runId, type: 'task' });
      await store.transition(jobId, 'running');
      const ended = await store.transition(endedId, 'completed');

      const flagged = await store.requestCancel(jobId);
      const again = await store.requestCancel(jobId);
      const untouched = await store.requestCancel(endedId);

      context.expect(flagged).toMatchObject({ status: 'running', cancel_requested: true });
      context.expect(again).toEqual(flagged);
      context.expect(untouched).toEqual(ended.record);
      context.expect(await store.get(endedId)).toEqual(ended.record);
      context.expect(await store.get(jobId)).toEqual(flagged);
    });

    it("lists a run's jobs, by job id, and no other run's", async (context) => {
      const { store, runId } = await arrange(context);
      const otherRun = `run-${randomUUID().slice(0, 8)}`;
      const ids = [taskJobId(runId, 'test', 'web'), taskJobId(runId, 'build', 'api')];
      await store.create({ job_id: discoveryJobId(runId), run_id: runId, type: 'discovery' });
      for (const job_id of ids) await store.create({ job_id, run_id: runId, type: 'task' });
      ids.push(discoveryJobId(runId));
      await store.create({ job_id: discoveryJobId(otherRun), run_id: otherRun, type: 'discovery' });

      const listed = await store.listByRun(runId);

      context.expect(listed.map((record) => record.job_id)).toEqual([...ids].sort());
      context.expect(listed.every((record) => record.run_id === runId)).toBe(true);
      context.expect(await store.listByRun(`run-${randomUUID().slice(0, 8)}`)).toEqual([]);
    });

    it('claims a pending job for a worker, stamping its start and heartbeat', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      const claim = await store.claim(jobId, { workerId: 'worker-1', heartbeatTimeoutMs: 60_000 });

      context.expect(claim).toMatchObject({
        outcome: 'claimed',
        record: { status: 'running', worker_id: 'worker-1' },
      });
      context.expect(claim.record.started_at).toBeDefined();
      context.expect(claim.record.heartbeat_at).toBe(claim.record.started_at);
      context.expect(await store.get(jobId)).toEqual(claim.record);
    });

    it('leaves a job whose owner heartbeats to it, writing nothing (a duplicate delivery)', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const owned = await store.claim(jobId, { workerId: 'worker-1', heartbeatTimeoutMs: 60_000 });

      const second = await store.claim(jobId, { workerId: 'worker-2', heartbeatTimeoutMs: 60_000 });
      const again = await store.claim(jobId, { workerId: 'worker-1', heartbeatTimeoutMs: 60_000 });

      context.expect(second).toEqual({ outcome: 'held', record: owned.record });
      context.expect(again).toEqual({ outcome: 'held', record: owned.record });
      context.expect(await store.get(jobId)).toEqual(owned.record);
    });

    it('lets exactly one of several takers win a job whose owner stopped heartbeating', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const first = await store.claim(jobId, { workerId: 'dead', heartbeatTimeoutMs: 1000 });
      await store.updateStep(jobId, 'compile', { status: 'running' });
      await sleep(1100);

      const takers = await Promise.all(
        ['taker-1', 'taker-2', 'taker-3', 'taker-4'].map((workerId) =>
          store.claim(jobId, { workerId, heartbeatTimeoutMs: 1000 }),
        ),
      );

      const winners = takers.filter((taker) => taker.outcome === 'taken-over');
      context.expect(winners).toHaveLength(1);
      context.expect(winners[0]).toMatchObject({ previousWorkerId: 'dead' });
      context.expect(takers.filter((taker) => taker.outcome === 'held')).toHaveLength(3);
      const stored = await store.get(jobId);
      context.expect(stored).toMatchObject({
        status: 'running',
        worker_id: winners[0]?.record.worker_id,
        started_at: first.record.started_at,
        steps: { compile: { status: 'running' } },
      });
      context.expect(stored?.heartbeat_at).not.toBe(first.record.heartbeat_at);
    });

    it('claims neither an ended job nor one whose cancellation was asked for', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      const cancelledId = taskJobId(runId, 'build', 'web');
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      await store.create({ job_id: cancelledId, run_id: runId, type: 'task' });
      const ended = await store.transition(jobId, 'completed');
      const flagged = await store.requestCancel(cancelledId);
      const request = { workerId: 'worker-1', heartbeatTimeoutMs: 1 };

      const late = await store.claim(jobId, request);
      const cancelled = await store.claim(cancelledId, request);

      context.expect(late).toEqual({ outcome: 'ended', record: ended.record });
      context.expect(cancelled).toEqual({ outcome: 'cancel-requested', record: flagged });
      context.expect(await store.get(cancelledId)).toEqual(flagged);
    });

    it('refuses a claim it could not read back', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });

      const nameless = store.claim(jobId, { workerId: '', heartbeatTimeoutMs: 1000 });

      await context.expect(nameless).rejects.toThrow(JobRecordFormatError);
      context.expect((await store.get(jobId))?.status).toBe('pending');
    });

    it("records the owner's heartbeats only, and only while the job runs", async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const claimed = await store.claim(jobId, { workerId: 'owner', heartbeatTimeoutMs: 60_000 });
      await sleep(5);

      const beat = await store.heartbeat(jobId, 'owner');
      const intruder = await store.heartbeat(jobId, 'intruder');
      const completed = await store.transition(jobId, 'completed');
      const afterEnd = await store.heartbeat(jobId, 'owner');

      context.expect(beat.owned).toBe(true);
      context.expect(beat.record.heartbeat_at! > claimed.record.heartbeat_at!).toBe(true);
      context.expect(beat.record.updated_at).toBe(claimed.record.updated_at);
      context.expect(intruder).toEqual({ owned: false, record: beat.record });
      context.expect(afterEnd).toEqual({ owned: false, record: completed.record });
      context.expect(await store.get(jobId)).toEqual(completed.record);
    });

    it('hands a job its owner gave up to the next claim at once', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      await store.create({ job_id: jobId, run_id: runId, type: 'task' });
      const first = await store.claim(jobId, { workerId: 'leaving', heartbeatTimeoutMs: 60_000 });

      const byOther = await store.release(jobId, 'stranger');
      const released = await store.release(jobId, 'leaving');
      const next = await store.claim(jobId, { workerId: 'next', heartbeatTimeoutMs: 60_000 });

      context.expect(byOther).toEqual({ owned: false, record: first.record });
      context.expect(released.owned).toBe(true);
      context.expect(released.record.status).toBe('running');
      context.expect(released.record.worker_id).toBeUndefined();
      context.expect(released.record.heartbeat_at).toBeUndefined();
      context.expect(next).toMatchObject({
        outcome: 'taken-over',
        previousWorkerId: undefined,
        record: { status: 'running', worker_id: 'next', started_at: first.record.started_at },
      });
      context.expect(await store.get(jobId)).toEqual(next.record);
    });

    it('hands out copies: changing a returned record changes nothing stored', async (context) => {
      const { store, runId, jobId } = await arrange(context);
      const { record } = createdRecord(
        await store.create({ job_id: jobId, run_id: runId, type: 'task' }),
      );

      (record as { status: string }).status = 'failed';
      const read = await store.get(jobId);
      if (read !== undefined) (read as { status: string }).status = 'failed';

      context.expect((await store.get(jobId))?.status).toBe('pending');
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function createdRecord(result: CreateJobResult): { record: JobRecord } {
  if (!result.created) throw new Error('expected the submission to create the job');
  return result;
}
