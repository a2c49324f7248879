import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobOutcome } from './job-handler.js';
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
    // One slot: the first job's clean-up ends before the second job starts.
    expect(order.indexOf(`clean ${first.job_id}`)).toBeLessThan(
      order.indexOf(`run ${second.job_id}`),
    );
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
