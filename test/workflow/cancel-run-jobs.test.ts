/** Stopping a run's unfinished jobs, on the embedded job plane. */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../core/statuses.js';
import { cancelRunJobs } from '../../dispatcher/cancel-run-jobs.js';
import { useEmbeddedJobPlane } from '../dispatcher/job-plane-fixture.js';

const fixture = useEmbeddedJobPlane('forge-cancel-run-');

/** Records a task job of `runId` and moves it to `status`. */
async function job(runId: string, project: string, status: JobStatus): Promise<string> {
  const jobId = `${runId}/task/test/${project}`;
  await fixture.plane.jobs.create({ job_id: jobId, run_id: runId, type: 'task' });
  if (status !== 'pending')
    await fixture.plane.jobs.transition(jobId, 'running', { worker_id: 'w' });
  if (status !== 'pending' && status !== 'running')
    await fixture.plane.jobs.transition(jobId, status);
  return jobId;
}

describe('cancelRunJobs', () => {
  it('asks the run’s pending and running jobs to stop, and leaves ended jobs and other runs alone', async () => {
    const running = await job('run-1', 'api', 'running');
    const pending = await job('run-1', 'web', 'pending');
    const failed = await job('run-1', 'cli', 'failed');
    const completed = await job('run-1', 'docs', 'completed');
    const otherRun = await job('run-2', 'api', 'running');

    const outcome = await cancelRunJobs({
      jobs: fixture.plane.jobs,
      runId: 'run-1',
      reason: 'test',
    });

    expect(outcome).toEqual({ cancelRequested: [running, pending], failed: [], alreadyEnded: 2 });
    const cancelRequested = async (jobId: string) =>
      (await fixture.plane.jobs.get(jobId))?.cancel_requested;
    expect(await cancelRequested(running)).toBe(true);
    expect(await cancelRequested(pending)).toBe(true);
    expect(await cancelRequested(failed)).toBe(false);
    expect(await cancelRequested(completed)).toBe(false);
    expect(await cancelRequested(otherRun)).toBe(false);
  });

  it('leaves the job it is told to spare', async () => {
    const own = await job('run-1', 'api', 'running');
    const sibling = await job('run-1', 'web', 'running');

    const outcome = await cancelRunJobs({
      jobs: fixture.plane.jobs,
      runId: 'run-1',
      reason: 'test',
      exceptJobId: own,
    });

    expect(outcome.cancelRequested).toEqual([sibling]);
    expect((await fixture.plane.jobs.get(own))?.cancel_requested).toBe(false);
  });

  it('goes on past a request that fails, and reports it', async () => {
    const first = await job('run-1', 'api', 'running');
    const refused = await job('run-1', 'web', 'running');
    const last = await job('run-1', 'zeta', 'running');
    // The store refuses one request, as a throttled or unreachable table would.
    const jobs = {
      listByRun: (runId: string) => fixture.plane.jobs.listByRun(runId),
      requestCancel: async (jobId: string) => {
        if (jobId === refused) throw new Error('throttled');
        return fixture.plane.jobs.requestCancel(jobId);
      },
    };

    const outcome = await cancelRunJobs({ jobs, runId: 'run-1', reason: 'test', concurrency: 1 });

    expect(outcome.cancelRequested).toEqual([first, last]);
    expect(outcome.failed).toEqual([{ jobId: refused, error: 'throttled' }]);
    expect((await fixture.plane.jobs.get(last))?.cancel_requested).toBe(true);
  });

  it('does nothing for a run without jobs', async () => {
    const outcome = await cancelRunJobs({
      jobs: fixture.plane.jobs,
      runId: 'run-9',
      reason: 'test',
    });

    expect(outcome).toEqual({ cancelRequested: [], failed: [], alreadyEnded: 0 });
  });
});
