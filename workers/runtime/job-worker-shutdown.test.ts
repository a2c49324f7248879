import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobOutcome } from './job-handler.js';
import type { JobStoppedError } from './job-worker-errors.js';
import { JobStopReason, JobWorkerStartError, JobWorkerStateError } from './job-worker-errors.js';
import { JobWorkerState } from './job-worker.js';
import { aborted, sleep, WorkerHarness } from './testing/worker-harness.js';

const completed: JobOutcome = { status: 'completed' };

/** A handler's start, as a promise the test awaits. */
function startGate(): { readonly started: Promise<void>; readonly signalStarted: () => void } {
  let signalStarted!: () => void;
  const started = new Promise<void>((resolve) => (signalStarted = resolve));
  return { started, signalStarted };
}

describe('JobWorker.close', () => {
  let harness: WorkerHarness;

  beforeEach(() => {
    harness = new WorkerHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('hands back a job still running after the grace period, leaving it non-terminal', async () => {
    const job = await harness.submit();
    const gate = startGate();
    let stopReason: unknown;
    const worker = await harness.startWorker({
      shutdownGraceMs: 300,
      handler: async (_message, { signal }) => {
        gate.signalStarted();
        await aborted(signal);
        stopReason = (signal.reason as JobStoppedError).stopReason;
        return { status: 'cancelled', reason: 'stopped by shutdown' };
      },
    });
    await gate.started;

    const closeStartedAt = performance.now();
    await worker.close();
    const closeTookMs = performance.now() - closeStartedAt;
    const redelivered = await harness.queue.receive({ waitTimeSeconds: 0 });

    expect(stopReason).toBe(JobStopReason.workerShutdown);
    expect(closeTookMs).toBeGreaterThanOrEqual(290);
    expect(redelivered.map((message) => message.receiveCount)).toEqual([2]);
    expect((await harness.jobs.get(job.job_id))?.status).toBe('running');
    expect(worker.state).toBe(JobWorkerState.stopped);
  });

  it('hands back the message of a handler that ignores its signal, ignoring its late outcome', async () => {
    const job = await harness.submit();
    const gate = startGate();
    const worker = await harness.startWorker({
      shutdownGraceMs: 100,
      abortedJobWaitMs: 200,
      handler: async () => {
        gate.signalStarted();
        await sleep(1000);
        return completed;
      },
    });
    await gate.started;

    await worker.close();
    const redelivered = await harness.queue.receive({ waitTimeSeconds: 0 });
    await sleep(1000);

    expect(redelivered).toHaveLength(1);
    expect((await harness.jobs.get(job.job_id))?.status).toBe('running');
    expect(harness.logger.at('warn')).toContain('abandoned job handler returned; outcome ignored');
  });

  it('lets a job that ends within the grace period finish and be recorded', async () => {
    const job = await harness.submit();
    const gate = startGate();
    let signalAborted = false;
    const worker = await harness.startWorker({
      shutdownGraceMs: 2000,
      handler: async (_message, { signal }) => {
        gate.signalStarted();
        await sleep(300);
        signalAborted = signal.aborted;
        return completed;
      },
    });
    await gate.started;

    await worker.close();

    expect(signalAborted).toBe(false);
    expect((await harness.jobs.get(job.job_id))?.status).toBe('completed');
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('is idempotent and moves through stopping to stopped', async () => {
    await harness.submit();
    const gate = startGate();
    const worker = await harness.startWorker({
      handler: async () => {
        gate.signalStarted();
        await sleep(200);
        return completed;
      },
    });
    await gate.started;
    const readyBefore = worker.ready;

    const first = worker.close();
    const second = worker.close();
    const duringClose = { state: worker.state, ready: worker.ready, live: worker.live };
    await Promise.all([first, second]);

    expect(readyBefore).toBe(true);
    expect(second).toBe(first);
    expect(duringClose).toEqual({ state: JobWorkerState.stopping, ready: false, live: true });
    expect({ state: worker.state, live: worker.live }).toEqual({
      state: JobWorkerState.stopped,
      live: false,
    });
    await expect(worker.close()).resolves.toBeUndefined();
    await expect(worker.start()).rejects.toBeInstanceOf(JobWorkerStateError);
  });

  it('hands back what the receive in progress returns instead of aborting it', async () => {
    const handler = vi.fn(() => Promise.resolve(completed));
    const worker = await harness.startWorker({ receiveWaitSeconds: 1, handler });
    await sleep(50);

    const closing = worker.close();
    await harness.submit();
    await closing;
    const depth = await harness.queue.depth();

    expect(handler).not.toHaveBeenCalled();
    expect(depth).toEqual({ visible: 1, inFlight: 0 });
  });

  it('closes a worker that never started without touching its backends', async () => {
    const receive = vi.spyOn(harness.queue, 'receive');
    const worker = harness.worker({ handler: () => Promise.resolve(completed) });

    await worker.close();

    expect(worker.state).toBe(JobWorkerState.stopped);
    expect(receive).not.toHaveBeenCalled();
  });

  it('does not start when a backend does not answer, and stays idle', async () => {
    const worker = harness.worker({ handler: () => Promise.resolve(completed) });
    await harness.queue.close();

    const starting = worker.start();

    await expect(starting).rejects.toBeInstanceOf(JobWorkerStartError);
    expect(worker.state).toBe(JobWorkerState.idle);
    expect(worker.ready).toBe(false);
  });
});
