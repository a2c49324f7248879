import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobOutcome } from './job-handler.js';
import { JobStopReason, type JobStoppedError } from './job-worker-errors.js';
import { aborted, sleep, WorkerHarness } from './testing/worker-harness.js';

const completed: JobOutcome = { status: 'completed' };

// Who owns a running job: duplicate deliveries, dead owners, and takeovers (DESIGN.md section 5).
describe('JobWorker job ownership', () => {
  let harness: WorkerHarness;

  afterEach(async () => {
    await harness.close();
  });

  it('leaves a duplicate delivery of a job its owner is running alone, running it once', async () => {
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 2 });
    const job = await harness.submit();
    // An at-least-once duplicate: the same job message a second time, without deduplication.
    await harness.queue.send(JSON.stringify(job));
    const runs: string[] = [];

    await harness.startWorker({
      concurrency: 2,
      handler: async (_message, context) => {
        runs.push(context.workerId);
        await sleep(1000);
        return completed;
      },
    });
    await vi.waitFor(
      async () => expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 }),
      { timeout: 8000, interval: 100 },
    );

    expect(runs).toEqual(['worker-1']);
    expect(harness.logger.at('info')).toContain(
      'job runs under a live worker; duplicate delivery left alone',
    );
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'completed',
      worker_id: 'worker-1',
    });
    expect(await harness.deadLetters.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it("records the owner's heartbeat in the job while it runs", async () => {
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 1 });
    const job = await harness.submit();
    const heartbeats: (string | undefined)[] = [];

    await harness.startWorker({
      handler: async () => {
        for (let sample = 0; sample < 3; sample += 1) {
          heartbeats.push((await harness.jobs.get(job.job_id))?.heartbeat_at);
          await sleep(400);
        }
        return completed;
      },
    });
    await vi.waitFor(
      async () => expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
      { timeout: 5000, interval: 50 },
    );

    expect(heartbeats.every((heartbeat) => heartbeat !== undefined)).toBe(true);
    expect(new Set(heartbeats).size).toBe(3);
    expect([...heartbeats].sort()).toEqual(heartbeats);
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('takes over a job whose owner stopped heartbeating, and records the new owner', async () => {
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 1 });
    const job = await harness.submit();
    const dead = await harness.jobs.claim(job.job_id, {
      workerId: 'dead-worker',
      heartbeatTimeoutMs: 1000,
    });
    const runs: string[] = [];

    await harness.startWorker({
      handler: (_message, context) => {
        runs.push(context.workerId);
        return Promise.resolve(completed);
      },
    });
    await vi.waitFor(
      async () => expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
      { timeout: 6000, interval: 50 },
    );

    expect(runs).toEqual(['worker-1']);
    expect(harness.logger.at('info')).toContain(
      'job runs under a live worker; duplicate delivery left alone',
    );
    const takeover = harness.logger.entries.find((entry) =>
      entry.message.startsWith('taking over a running job'),
    );
    expect(takeover?.fields).toMatchObject({ previousWorkerId: 'dead-worker' });
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'completed',
      worker_id: 'worker-1',
      started_at: dead.record.started_at,
    });
  });

  it('stops a job another worker took over, leaving the outcome and the message to it', async () => {
    harness = new WorkerHarness();
    const job = await harness.submit();
    let stopReason: unknown;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    await harness.startWorker({
      heartbeatIntervalMs: 100,
      handler: async (_message, { signal }) => {
        started();
        await aborted(signal);
        stopReason = (signal.reason as JobStoppedError).stopReason;
        return { status: 'cancelled', reason: 'step killed' };
      },
    });
    await handlerStarted;
    await sleep(5);

    const takeover = await harness.jobs.claim(job.job_id, {
      workerId: 'new-owner',
      heartbeatTimeoutMs: 1,
    });
    await vi.waitFor(() => expect(stopReason).toBeDefined(), { timeout: 2000, interval: 20 });
    await vi.waitFor(() =>
      expect(harness.logger.at('warn')).toContain(
        'job taken over by another worker; its outcome is left to it',
      ),
    );

    expect(takeover.outcome).toBe('taken-over');
    expect(stopReason).toBe(JobStopReason.ownershipLost);
    expect(await harness.jobs.get(job.job_id)).toMatchObject({
      status: 'running',
      worker_id: 'new-owner',
    });
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 1 });
  });

  it('gives a job up when it hands its message back, so the next delivery runs it at once', async () => {
    harness = new WorkerHarness();
    const job = await harness.submit();
    let attempts = 0;

    await harness.startWorker({
      handler: () => {
        attempts += 1;
        return attempts === 1
          ? Promise.reject(new Error('the build cache volume went away'))
          : Promise.resolve(completed);
      },
    });
    await vi.waitFor(
      async () => expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
      { timeout: 3000, interval: 20 },
    );

    expect(attempts).toBe(2);
    expect(harness.logger.at('warn')).toContain(
      'taking over a running job (its worker stopped heartbeating or gave it up)',
    );
    expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });
});
