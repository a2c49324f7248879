import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { JobMessage } from '../../core/contracts/jobs.js';
import type { JobHandler, JobOutcome } from './job-handler.js';
import { JobStoppedError, JobStopReason, JobWorkerOptionsError } from './job-worker-errors.js';
import type { JobWorkerQueue } from './job-worker-options.js';
import { aborted, sleep, WorkerHarness } from './testing/worker-harness.js';

const completed: JobOutcome = { status: 'completed', resultLocation: 's3://results/out.json' };

describe('JobWorker', () => {
  let harness: WorkerHarness;

  beforeEach(() => {
    harness = new WorkerHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  /** Waits until the worker has dealt with every message: none visible, none in flight. */
  async function queueDrained(options?: { timeout: number }): Promise<void> {
    await vi.waitFor(
      async () => expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 }),
      options,
    );
  }

  /**
   * Starts a worker with a handler that completes any job, and waits until the queue is empty:
   * the handler, to check whether the worker ran it at all.
   */
  async function drainWithCompletingHandler(): Promise<Mock<JobHandler>> {
    const handler = vi.fn<JobHandler>(() => Promise.resolve(completed));
    await harness.startWorker({ handler });
    await queueDrained();
    return handler;
  }

  it('runs a job once, records it completed, and only then deletes its message', async () => {
    const { queue, jobs } = harness;
    const job = await harness.submit();
    const statusesAtDelete: (string | undefined)[] = [];
    const observedQueue: JobWorkerQueue = {
      name: queue.name,
      receive: (options) => queue.receive(options),
      changeVisibility: (handle, seconds) => queue.changeVisibility(handle, seconds),
      depth: () => queue.depth(),
      delete: async (handle) => {
        statusesAtDelete.push((await jobs.get(job.job_id))?.status);
        await queue.delete(handle);
      },
    };
    const received: JobMessage[] = [];

    await harness.startWorker({
      queue: observedQueue,
      handler: (message, context) => {
        received.push(message);
        expect(context.workerId).toBe('worker-1');
        return Promise.resolve(completed);
      },
    });
    await queueDrained();

    expect(received).toEqual([job]);
    expect(statusesAtDelete).toEqual(['completed']);
    expect(await jobs.get(job.job_id)).toMatchObject({
      status: 'completed',
      worker_id: 'worker-1',
      result_location: 's3://results/out.json',
    });
  });

  it('records a failed outcome with its error', async () => {
    const job = await harness.submit();

    await harness.startWorker({
      handler: () => Promise.resolve({ status: 'failed', error: 'step build exited with 2' }),
    });
    await queueDrained();

    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'failed',
      error: 'step build exited with 2',
    });
  });

  it('deletes a redelivered job that already ended without running it', async () => {
    const job = await harness.submit();
    await harness.jobs.transition(job.job_id, 'completed', { result_location: 'first-run' });

    const handler = await drainWithCompletingHandler();

    expect(handler).not.toHaveBeenCalled();
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'completed',
      result_location: 'first-run',
    });
  });

  it('never runs more jobs at once than its concurrency', async () => {
    const submitted = await Promise.all(Array.from({ length: 10 }, () => harness.submit()));
    let running = 0;
    let mostRunning = 0;

    await harness.startWorker({
      concurrency: 3,
      handler: async () => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await sleep(50);
        running -= 1;
        return completed;
      },
    });
    await queueDrained({ timeout: 5000 });

    expect(mostRunning).toBe(3);
    const records = await Promise.all(submitted.map((job) => harness.jobs.get(job.job_id)));
    expect(records.map((record) => record?.status)).toEqual(Array(10).fill('completed'));
  });

  it('keeps a job longer than the visibility timeout from being redelivered', async () => {
    await harness.close();
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 1 });
    const job = await harness.submit();
    const runs: string[] = [];
    const handler = async (_message: JobMessage, context: { workerId: string }) => {
      runs.push(context.workerId);
      await sleep(2500);
      return completed;
    };

    await harness.startWorker({ concurrency: 1, handler });
    await harness.startWorker({ concurrency: 1, handler });
    await vi.waitFor(
      async () => expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
      { timeout: 6000 },
    );
    await sleep(1200);

    expect(runs).toHaveLength(1);
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('aborts the handler within about a second of a cancel request and records it cancelled', async () => {
    const job = await harness.submit();
    let stopReason: unknown;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    await harness.startWorker({
      cancelPollIntervalMs: 1000,
      handler: async (_message, { signal }) => {
        started();
        await aborted(signal);
        stopReason = signal.reason;
        return { status: 'cancelled', reason: 'steps killed' };
      },
    });
    await handlerStarted;

    const requestedAt = performance.now();
    await harness.jobs.requestCancel(job.job_id);
    await vi.waitFor(() => expect(stopReason).toBeDefined(), { timeout: 2000, interval: 20 });
    const abortedAfterMs = performance.now() - requestedAt;
    await queueDrained();

    expect(abortedAfterMs).toBeLessThan(1300);
    expect(stopReason).toBeInstanceOf(JobStoppedError);
    expect((stopReason as JobStoppedError).stopReason).toBe(JobStopReason.cancelRequested);
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'cancelled',
      error: 'steps killed',
    });
  });

  it('cancels a job whose cancellation was requested before it started, without running it', async () => {
    const job = await harness.submit();
    await harness.jobs.requestCancel(job.job_id);

    const handler = await drainWithCompletingHandler();

    expect(handler).not.toHaveBeenCalled();
    expect((await harness.jobs.get(job.job_id))?.status).toBe('cancelled');
  });

  it('fails a job whose deadline passed before it started, without running it', async () => {
    const job = await harness.submit({ deadline: new Date(Date.now() - 1000) });

    const handler = await drainWithCompletingHandler();

    expect(handler).not.toHaveBeenCalled();
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'failed',
      error: 'deadline exceeded',
    });
  });

  it('aborts a job when its deadline passes while it runs and records it failed', async () => {
    const job = await harness.submit({ deadline: new Date(Date.now() + 300) });
    let stopReason: unknown;

    await harness.startWorker({
      handler: async (_message, { signal }) => {
        await aborted(signal);
        stopReason = (signal.reason as JobStoppedError).stopReason;
        return { status: 'failed', error: 'killed' };
      },
    });
    await vi.waitFor(async () =>
      expect((await harness.jobs.get(job.job_id))?.status).toBe('failed'),
    );

    expect(stopReason).toBe(JobStopReason.deadlineExceeded);
    expect((await harness.jobs.get(job.job_id))?.error).toBe('deadline exceeded');
  });

  it('hands back the message of a throwing handler, which dead-letters after 3 receives', async () => {
    const job = await harness.submit();
    const receiveCounts: number[] = [];

    await harness.startWorker({
      handler: () => {
        receiveCounts.push(receiveCounts.length + 1);
        return Promise.reject(new Error('the repository cache volume is gone'));
      },
    });
    await vi.waitFor(
      async () => expect(await harness.deadLetters.depth()).toEqual({ visible: 1, inFlight: 0 }),
      { timeout: 5000 },
    );

    expect(receiveCounts).toEqual([1, 2, 3]);
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect((await harness.jobs.get(job.job_id))?.status).toBe('running');
    expect(harness.logger.at('error')).toContain('job handler threw; message handed back');
  });

  it('leaves a message that is not a job message alone, so it dead-letters after 3 receives', async () => {
    await harness.close();
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 1 });
    await harness.queue.send('{"type":"discovery"}');
    const handler = vi.fn(() => Promise.resolve(completed));

    await harness.startWorker({ handler });
    await vi.waitFor(() => expect(harness.logger.at('error')).toHaveLength(1));
    const depthAfterFirstReceive = await harness.queue.depth();
    await vi.waitFor(
      async () => expect(await harness.deadLetters.depth()).toEqual({ visible: 1, inFlight: 0 }),
      { timeout: 6000 },
    );

    expect(depthAfterFirstReceive).toEqual({ visible: 0, inFlight: 1 });
    expect(handler).not.toHaveBeenCalled();
    expect(harness.logger.at('error')).toEqual(
      Array(3).fill('invalid job message left to dead-letter'),
    );
  });

  it('leaves the message of a job without a record to come back', async () => {
    const message = harness.message();
    await harness.queue.send(JSON.stringify(message));
    const handler = vi.fn(() => Promise.resolve(completed));

    await harness.startWorker({ handler });
    await vi.waitFor(() => expect(harness.logger.at('error')).toHaveLength(1));

    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 1 });
    expect(handler).not.toHaveBeenCalled();
  });

  it('records step progress through the job context', async () => {
    const job = await harness.submit();

    await harness.startWorker({
      handler: async (_message, context) => {
        await context.recordStep('build', { status: 'success', exit_code: 0 });
        return completed;
      },
    });
    await vi.waitFor(async () =>
      expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
    );

    expect((await harness.jobs.get(job.job_id))?.steps).toEqual({
      build: { status: 'success', exit_code: 0 },
    });
  });

  it('refuses a heartbeat interval that is not shorter than the visibility timeout', () => {
    const build = () =>
      harness.worker({
        visibilityTimeoutSeconds: 2,
        heartbeatIntervalMs: 2000,
        handler: () => Promise.resolve(completed),
      });

    expect(build).toThrow(JobWorkerOptionsError);
    expect(build).toThrow(/heartbeatIntervalMs/);
  });
});
