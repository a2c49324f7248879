import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobOutcome } from './job-handler.js';
import { CLEANUP_MAX_DEFER_MS } from './job-worker.js';
import { WorkerHarness } from './testing/worker-harness.js';

const completed: JobOutcome = { status: 'completed', resultLocation: 's3://results/out.json' };

describe('JobWorker clean-ups (JobContext.afterOutcome)', () => {
  let harness: WorkerHarness;

  beforeEach(() => {
    harness = new WorkerHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runs a clean-up after the outcome is recorded and the message deleted', async () => {
    const job = await harness.submit();
    const seenByCleanup: unknown[] = [];

    await harness.startWorker({
      handler: (_message, context) => {
        context.afterOutcome(async () => {
          seenByCleanup.push((await harness.jobs.get(job.job_id))?.status);
          seenByCleanup.push(await harness.queue.depth());
        });
        return Promise.resolve(completed);
      },
    });
    await vi.waitFor(() => expect(seenByCleanup).toHaveLength(2));

    expect(seenByCleanup).toEqual(['completed', { visible: 0, inFlight: 0 }]);
  });

  it('logs a failing clean-up, keeps the outcome and goes on to the next job', async () => {
    const first = await harness.submit();
    const second = await harness.submit();
    const order: string[] = [];

    await harness.startWorker({
      handler: (message, context) => {
        order.push(`run ${message.job_id}`);
        context.afterOutcome(() => {
          order.push(`clean ${message.job_id}`);
          return Promise.reject(new Error('worktree folder is busy'));
        });
        return Promise.resolve(completed);
      },
    });
    await vi.waitFor(() => expect(harness.logger.at('warn')).toHaveLength(2));

    expect(harness.logger.at('warn')).toEqual(['job clean-up failed', 'job clean-up failed']);
    expect((await harness.jobs.get(first.job_id))?.status).toBe('completed');
    expect((await harness.jobs.get(second.job_id))?.status).toBe('completed');
    expect(order).toContain(`clean ${first.job_id}`);
  });

  it('runs a clean-up beside the next job, and waits for it before stopping', async () => {
    const first = await harness.submit();
    const second = await harness.submit();
    const order: string[] = [];
    let finishCleanup: () => void = () => undefined;
    const cleanupHeld = new Promise<void>((resolve) => (finishCleanup = resolve));

    const worker = await harness.startWorker({
      handler: (message, context) => {
        order.push(`run ${message.job_id}`);
        if (message.job_id === first.job_id) {
          context.afterOutcome(async () => {
            await cleanupHeld;
            order.push(`clean ${message.job_id}`);
          });
        }
        return Promise.resolve(completed);
      },
    });
    await vi.waitFor(async () =>
      expect((await harness.jobs.get(second.job_id))?.status).toBe('completed'),
    );
    const closing = worker.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stateWhileCleaning = worker.state;
    finishCleanup();
    await closing;

    // One slot: the second job ran while the first job's clean-up was still going.
    expect(order).toEqual([`run ${first.job_id}`, `run ${second.job_id}`, `clean ${first.job_id}`]);
    expect(stateWhileCleaning).toBe('stopping');
    expect(worker.state).toBe('stopped');
  });

  it('holds clean-ups back while the worker is not yet quiet, and starts them when it stops', async () => {
    const first = await harness.submit();
    const second = await harness.submit();
    const cleaned: string[] = [];

    const worker = await harness.startWorker({
      // Two slots: two clean-ups waiting never keep a job from starting (see the next test).
      concurrency: 2,
      // Longer than the test: only the worker's stop can start the clean-ups.
      cleanupQuietMs: 60_000,
      handler: (message, context) => {
        context.afterOutcome(() => {
          cleaned.push(message.job_id);
          return Promise.resolve();
        });
        return Promise.resolve(completed);
      },
    });
    await vi.waitFor(async () =>
      expect((await harness.jobs.get(second.job_id))?.status).toBe('completed'),
    );
    const cleanedWhileRunning = [...cleaned];
    await worker.close();

    // Both jobs ended well within CLEANUP_MAX_DEFER_MS, so neither clean-up had begun.
    expect(cleanedWhileRunning).toEqual([]);
    expect(cleaned).toEqual([first.job_id, second.job_id]);
  });

  it('lets held clean-ups go as soon as they are what keeps the next job from starting', async () => {
    const jobs = [await harness.submit(), await harness.submit(), await harness.submit()];
    const cleaned: string[] = [];
    const cleanedBeforeStart = new Map<string, string[]>();

    const worker = await harness.startWorker({
      // One slot: the second job's clean-up waiting beside the first's holds the slot.
      concurrency: 1,
      // Longer than the test: only the slot rule can start the clean-ups while it runs.
      cleanupQuietMs: 60_000,
      handler: (message, context) => {
        cleanedBeforeStart.set(message.job_id, [...cleaned]);
        context.afterOutcome(() => {
          cleaned.push(message.job_id);
          return Promise.resolve();
        });
        return Promise.resolve(completed);
      },
    });
    // Held until CLEANUP_MAX_DEFER_MS, the third job would start a second after the second.
    await vi.waitFor(
      async () => expect((await harness.jobs.get(jobs[2]!.job_id))?.status).toBe('completed'),
      { timeout: CLEANUP_MAX_DEFER_MS - 200, interval: 10 },
    );
    await worker.close();

    // The third job took the slot the two clean-ups held, once they had run.
    expect(cleanedBeforeStart.get(jobs[2]!.job_id)).toEqual([jobs[0]!.job_id, jobs[1]!.job_id]);
    expect(cleaned).toEqual(jobs.map((job) => job.job_id));
  });

  it('runs the clean-ups of a handler that threw, after its message is handed back', async () => {
    await harness.submit();
    const depthAtCleanup: unknown[] = [];

    await harness.startWorker({
      handler: (_message, context) => {
        context.afterOutcome(async () => {
          depthAtCleanup.push(await harness.queue.depth());
        });
        return Promise.reject(new Error('the repository cache is gone'));
      },
    });
    await vi.waitFor(() => expect(depthAtCleanup.length).toBeGreaterThan(0));

    expect(depthAtCleanup[0]).toMatchObject({ inFlight: 0 });
    expect(harness.logger.at('error')).toContain('job handler threw; message handed back');
  });
});
