import { setTimeout as delay } from 'node:timers/promises';
import { discoveryJobId } from '../../core/contracts/jobs.js';
import { discoveryResultKey, stepLogKey } from '../../core/job-plane/blob-keys.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { JobStore } from '../../core/ports/job-store.js';
import type { RunDetail, RunRepository } from '../../core/ports/run-repository.js';
import { materialiseDiscovery } from '../../core/run-progress/materialise-discovery.js';
import type { TaskState } from '../../core/run-progress/run-snapshot.js';
import { sampleDiscoveryOutput } from '../support/postgres-run-fixtures.js';

/** A step of the sample run that fails (exit code 2), failing its task and the run. */
export interface FailingStep {
  readonly phase: string;
  readonly project: string;
  readonly step: string;
}

/**
 * Plays the sample run (test/support/postgres-run-fixtures.ts) on a real job store, as the
 * workers and dispatchers would through the `JobStore` API: the discovery job with its result
 * in the results bucket, then each phase group's task jobs side by side (steps reported as they
 * start and end), then the release job. With `failing`, that step fails, its task job fails,
 * and no later group starts (fail fast).
 */
export async function driveSampleRun(
  jobs: JobStore,
  results: BlobStore,
  runId: string,
  options: { readonly failing?: FailingStep; readonly releaseEnabled?: boolean } = {},
): Promise<void> {
  const output = sampleDiscoveryOutput({ releaseEnabled: options.releaseEnabled ?? false });
  const discovery = discoveryJobId(runId);
  await jobs.create({ job_id: discovery, run_id: runId, type: 'discovery' });
  await jobs.transition(discovery, 'running', { worker_id: 'discovery-1' });
  const key = discoveryResultKey(runId);
  await results.put(key, JSON.stringify(output), { contentType: 'application/json' });
  await jobs.transition(discovery, 'completed', { result_location: results.locationOf(key) });

  const plan = materialiseDiscovery(runId, output);
  for (const group of [...new Set(plan.tasks.map((task) => task.group))]) {
    const tasks = plan.tasks.filter((task) => task.group === group);
    const outcomes = await Promise.all(
      tasks.map((task) =>
        runTask(
          jobs,
          task,
          plan.steps.filter((step) => step.jobId === task.jobId).map((step) => step.name),
          options.failing,
        ),
      ),
    );
    if (outcomes.includes('failed')) return;
  }
  for (const release of plan.releases) {
    await jobs.create({ job_id: release.jobId, run_id: runId, type: 'release' });
    await jobs.transition(release.jobId, 'running', { worker_id: 'release-1' });
    await jobs.transition(release.jobId, 'completed');
  }
}

async function runTask(
  jobs: JobStore,
  task: TaskState,
  steps: readonly string[],
  failing: FailingStep | undefined,
): Promise<'completed' | 'failed'> {
  const runId = task.jobId.split('/')[0] ?? '';
  await jobs.create({ job_id: task.jobId, run_id: runId, type: 'task' });
  await jobs.transition(task.jobId, 'running', { worker_id: 'task-1' });
  let failedStep: string | undefined;
  for (const step of steps) {
    if (failedStep !== undefined) {
      await jobs.updateStep(task.jobId, step, { status: 'skipped' });
      continue;
    }
    const startedAt = new Date().toISOString();
    const logKey = stepLogKey(runId, task.phase, task.project, step);
    await jobs.updateStep(task.jobId, step, {
      status: 'running',
      started_at: startedAt,
      log_key: logKey,
    });
    const fails =
      failing?.phase === task.phase && failing.project === task.project && failing.step === step;
    await jobs.updateStep(task.jobId, step, {
      status: fails ? 'failed' : 'success',
      exit_code: fails ? 2 : 0,
      started_at: startedAt,
      completed_at: new Date().toISOString(),
      duration_ms: 1,
      log_key: logKey,
    });
    if (fails) failedStep = step;
  }
  if (failedStep !== undefined) {
    await jobs.transition(task.jobId, 'failed', {
      error: `step ${failedStep} failed: exit status 2`,
    });
    return 'failed';
  }
  await jobs.transition(task.jobId, 'completed');
  return 'completed';
}

/** Waits (at most `timeoutMs`) until the run satisfies `done`; returns it as it then is. */
export async function waitForRun(
  runs: RunRepository,
  runId: string,
  done: (run: RunDetail) => boolean,
  timeoutMs = 20_000,
): Promise<RunDetail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.getRun(runId);
    if (run !== undefined && done(run)) return run;
    if (Date.now() > deadline) {
      throw new Error(`run ${runId} did not get there in ${timeoutMs} ms: ${run?.status}`);
    }
    await delay(50);
  }
}
