/**
 * `dispatchJob` over the embedded job plane. The jobs are ended by a FAKE worker defined in
 * this folder (`fake-worker.ts`), not by the product's worker runtime: it takes each message
 * and ends its job through the job store, which is all a dispatcher can observe of a worker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedJobPlane } from '../../adapters/job-plane/embedded-job-plane.js';
import type { JobMessage } from '../../core/contracts/jobs.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { dispatchJob, type DispatchJobOptions } from '../../dispatcher/dispatch-job.js';
import {
  DispatchAbortedError,
  DispatchDeadlineError,
  DispatchedJobFailedError,
  DispatchedJobMissingError,
} from '../../dispatcher/dispatcher-errors.js';
import { assertJobsCompleted } from '../../dispatcher/dispatcher-outputs.js';
import { discoveryMessage, taskMessage } from '../../dispatcher/job-messages.js';
import { DISCOVERY_OUTPUT, UNIT_STEP, jobSource } from './dispatcher-fixtures.js';
import { startFakeWorker, type FakeOutcome, type FakeWorker } from './fake-worker.js';

const FAST_POLL = { initialMs: 10, maxMs: 50 };

let folder: string;
let plane: JobPlane;
let workers: FakeWorker[];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'forge-dispatch-'));
  plane = await createEmbeddedJobPlane({ dataDirectory: folder });
  workers = [];
});

afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await plane.close();
  await rm(folder, { recursive: true, force: true });
});

function fakeWorker(decide: (message: JobMessage) => FakeOutcome): FakeWorker {
  const worker = startFakeWorker(plane, 'discovery', decide);
  workers.push(worker);
  return worker;
}

function dispatch(
  message: JobMessage,
  options: Partial<DispatchJobOptions> = {},
): ReturnType<typeof dispatchJob> {
  return dispatchJob({
    jobs: plane.jobs,
    queue: plane.queues.discovery,
    message,
    deadline: new Date(Date.now() + 10_000),
    pollInterval: FAST_POLL,
    ...options,
  });
}

describe('dispatchJob', () => {
  it('submits the job and returns its record once the worker completed it', async () => {
    const worker = fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const message = discoveryMessage(jobSource());

    const record = await dispatch(message);

    expect(record).toMatchObject({ job_id: message.job_id, status: 'completed' });
    expect(record.result_location).toMatch(/^s3:\/\/forge-results\/run-.*\/discovery\.json$/);
    expect(worker.deliveries.map((delivered) => delivered.job_id)).toEqual([message.job_id]);
  });

  it('returns a failed job, and the outcome check turns it into one line with the reason', async () => {
    fakeWorker(() => ({ status: 'failed', error: 'step unit exited with 2\n  npm ERR! test' }));
    const message = discoveryMessage(jobSource());

    const record = await dispatch(message);

    expect(record).toMatchObject({ status: 'failed', error: expect.stringContaining('exited') });
    expect(() => assertJobsCompleted([record])).toThrow(DispatchedJobFailedError);
    expect(() => assertJobsCompleted([record])).toThrow(
      `job ${message.job_id} failed: step unit exited with 2 / npm ERR! test`,
    );
  });

  it('sends a task job to the queue it is given, with the job id as deduplication key', async () => {
    const message = taskMessage(jobSource(), {
      phase: 'test',
      project: 'api',
      projectPath: 'services/api',
      steps: [UNIT_STEP],
    });
    const worker = startFakeWorker(plane, 'tasks', () => ({ status: 'completed' }));
    workers.push(worker);

    const record = await dispatch(message, { queue: plane.queues.tasks });

    expect(record.status).toBe('completed');
    expect(worker.deliveries).toEqual([message]);
  });

  it('run twice one after the other (an Argo retry), creates one record and runs the job once', async () => {
    const worker = fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const message = discoveryMessage(jobSource());

    const first = await dispatch(message);
    const second = await dispatch(message);

    expect(second).toEqual(first);
    expect(await plane.jobs.listByRun(message.run_id)).toHaveLength(1);
    expect(worker.executions).toEqual([message.job_id]);
    expect(worker.deliveries).toHaveLength(1);
  });

  it('run twice at once, creates one record and the queue delivers the job once', async () => {
    const worker = fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const message = discoveryMessage(jobSource());

    const [first, second] = await Promise.all([dispatch(message), dispatch(message)]);

    expect(first.status).toBe('completed');
    expect(second.status).toBe('completed');
    expect(await plane.jobs.listByRun(message.run_id)).toHaveLength(1);
    expect(worker.deliveries).toHaveLength(1);
    expect(worker.executions).toEqual([message.job_id]);
  });

  it('sends the message of a job whose earlier dispatcher died between create and send', async () => {
    const message = discoveryMessage(jobSource());
    const { job_id, run_id, type } = message;
    await plane.jobs.create({ job_id, run_id, type });
    const worker = fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));

    const record = await dispatch(message);

    expect(record.status).toBe('completed');
    expect(worker.executions).toEqual([job_id]);
  });

  it('does not send again a job an earlier dispatcher saw start', async () => {
    const message = discoveryMessage(jobSource());
    const { job_id, run_id, type } = message;
    await plane.jobs.create({ job_id, run_id, type });
    await plane.jobs.transition(job_id, 'running', { worker_id: 'elsewhere' });
    setTimeout(() => void plane.jobs.transition(job_id, 'completed'), 100);

    const record = await dispatch(message);

    expect(record.status).toBe('completed');
    expect((await plane.queues.discovery.depth()).visible).toBe(0);
  });

  it('past its deadline, requests the cancellation of a job nobody took and fails', async () => {
    const message = discoveryMessage(jobSource());
    const deadline = new Date(Date.now() + 200);

    const dispatched = dispatch(message, { deadline });

    await expect(dispatched).rejects.toThrow(DispatchDeadlineError);
    await expect(dispatched).rejects.toThrow(
      /still pending at its deadline.*cancellation requested/,
    );
    expect(await plane.jobs.get(message.job_id)).toMatchObject({
      status: 'pending',
      cancel_requested: true,
    });
  });

  it('stopped by its signal, requests the cancellation of the running job and fails', async () => {
    const worker = fakeWorker(() => ({ status: 'hold-until-cancelled' }));
    const message = discoveryMessage(jobSource());
    const controller = new AbortController();

    const dispatched = dispatch(message, { signal: controller.signal });
    await expect.poll(() => worker.executions).toEqual([message.job_id]);
    controller.abort('SIGTERM');

    await expect(dispatched).rejects.toThrow(DispatchAbortedError);
    await expect(dispatched).rejects.toThrow('stopped (SIGTERM); cancellation requested');
    expect((await plane.jobs.get(message.job_id))?.cancel_requested).toBe(true);
    await expect.poll(async () => (await plane.jobs.get(message.job_id))?.status).toBe('cancelled');
  });

  it('keeps polling through a transient read failure', async () => {
    fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const message = discoveryMessage(jobSource());
    let failures = 0;
    const jobs = {
      create: plane.jobs.create.bind(plane.jobs),
      requestCancel: plane.jobs.requestCancel.bind(plane.jobs),
      get: (jobId: string) => {
        if (failures++ < 2) {
          const throttled = new JobPlaneOperationError('dynamodb:GetItem', 'jobs', 'throttled', {
            retryable: true,
          });
          return Promise.reject(throttled);
        }
        return plane.jobs.get(jobId);
      },
    };

    const record = await dispatch(message, { jobs });

    expect(record.status).toBe('completed');
    expect(failures).toBeGreaterThan(2);
  });

  it('fails when the job record disappears while it waits', async () => {
    const message = discoveryMessage(jobSource());
    const jobs = {
      create: plane.jobs.create.bind(plane.jobs),
      requestCancel: plane.jobs.requestCancel.bind(plane.jobs),
      get: () => Promise.resolve(undefined),
    };

    await expect(dispatch(message, { jobs })).rejects.toThrow(DispatchedJobMissingError);
  });

  it("with the plane's change signal, sees the job end at once instead of at its next poll", async () => {
    fakeWorker(() => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
    const message = discoveryMessage(jobSource());
    const minutePoll = { initialMs: 60_000, maxMs: 60_000 };

    const ended = await Promise.race([
      dispatch(message, { pollInterval: minutePoll, changes: plane.jobChanges }),
      new Promise<'still polling'>((resolve) => setTimeout(() => resolve('still polling'), 5_000)),
    ]);

    expect(ended).toMatchObject({ job_id: message.job_id, status: 'completed' });
  });
});
