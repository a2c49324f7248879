import { assertNever } from '../assert-never.js';
import type { DiscoveryOutput } from '../contracts/discovery-output.js';
import type { JobRecord } from '../contracts/jobs.js';
import { ExecutionStatus, JobStatus, JobType, RunStatus } from '../statuses.js';
import { RECONCILER_ACTOR } from './derive-run-progress.js';
import type { RunProgressDraft } from './run-progress-draft.js';
import { ExecutionNotFoundError, RunNotDiscoveredError } from './run-progress-errors.js';

/**
 * The execution status a task (or release) takes from its job's status: running → running,
 * completed → success, failed → failed, cancelled → cancelled, or `skipped` for a job
 * cancelled before it ever started (fail fast reached it while it waited in the queue).
 */
export function executionStatusOfJob(
  job: Pick<JobRecord, 'status' | 'started_at'>,
): ExecutionStatus {
  switch (job.status) {
    case JobStatus.pending:
      return ExecutionStatus.pending;
    case JobStatus.running:
      return ExecutionStatus.running;
    case JobStatus.completed:
      return ExecutionStatus.success;
    case JobStatus.failed:
      return ExecutionStatus.failed;
    case JobStatus.cancelled:
      return job.started_at === undefined ? ExecutionStatus.skipped : ExecutionStatus.cancelled;
    default:
      return assertNever(job.status, 'job status');
  }
}

/** Who made a job's change, for the audit log: its worker, else the reconciler. */
export function actorOfJob(job: Pick<JobRecord, 'worker_id'>): string {
  return job.worker_id === undefined ? RECONCILER_ACTOR : `worker:${job.worker_id}`;
}

/**
 * Applies what one job record says to its run's progress, through the transition rules, so
 * that applying a record twice, or a run's records in any order, ends in the same state:
 * - discovery submitted or running: the run is `discovering`; completed: the plan is created
 *   from `discovery` (the job's result) and the run is `running`; failed or cancelled: so is
 *   the run;
 * - a task job: its steps' progress, then the task's status, times and error;
 * - a release job: the release's status;
 * - an artifact job: nothing (its release job reports the outcome).
 *
 * Throws {@link RunNotDiscoveredError} when the record needs the plan and the run has none yet
 * and no `discovery` was given (the caller reads the result and applies again), and
 * {@link ExecutionNotFoundError} for a task or release job the plan does not contain.
 */
export function applyJobRecord(
  draft: RunProgressDraft,
  job: JobRecord,
  discovery?: DiscoveryOutput,
): void {
  const actor = actorOfJob(job);
  const times = {
    startedAt: isoTime(job.started_at),
    completedAt: isoTime(job.completed_at),
  };
  const details = { job_id: job.job_id };
  switch (job.type) {
    case JobType.discovery:
      applyDiscovery(draft, job, discovery, actor);
      return;
    case JobType.task: {
      ensurePlan(draft, discovery);
      if (draft.task(job.job_id) === undefined) {
        throw new ExecutionNotFoundError('task', job.job_id);
      }
      for (const [name, progress] of Object.entries(job.steps ?? {}).sort(byName)) {
        if (draft.step(job.job_id, name) === undefined) continue;
        draft.changeStep(
          job.job_id,
          name,
          progress.status,
          {
            startedAt: isoTime(progress.started_at),
            completedAt: isoTime(progress.completed_at),
            exitCode: progress.exit_code ?? null,
            logsKey: progress.log_key ?? null,
          },
          actor,
          details,
        );
      }
      draft.changeTask(
        job.job_id,
        executionStatusOfJob(job),
        { ...times, error: job.error ?? null },
        actor,
        details,
      );
      return;
    }
    case JobType.release:
      ensurePlan(draft, discovery);
      if (draft.release(job.job_id) === undefined) {
        throw new ExecutionNotFoundError('release', job.job_id);
      }
      draft.changeRelease(
        job.job_id,
        executionStatusOfJob(job),
        { ...times, error: job.error ?? null },
        actor,
      );
      return;
    case JobType.artifact:
      return;
    default:
      assertNever(job.type, 'job type');
  }
}

function applyDiscovery(
  draft: RunProgressDraft,
  job: JobRecord,
  discovery: DiscoveryOutput | undefined,
  actor: string,
): void {
  const details = { job_id: job.job_id };
  const completedAt = isoTime(job.completed_at);
  switch (job.status) {
    case JobStatus.pending:
    case JobStatus.running:
      draft.changeRun(RunStatus.discovering, {}, actor, details);
      return;
    case JobStatus.completed:
      if (!draft.materialised) {
        if (discovery === undefined) throw new RunNotDiscoveredError(draft.run.id);
        draft.materialise(discovery, completedAt);
      } else if (completedAt !== null) {
        draft.recordDiscoveredAt(completedAt);
      }
      draft.changeRun(RunStatus.running, {}, actor, details);
      return;
    case JobStatus.failed:
      draft.changeRun(
        RunStatus.failed,
        { completedAt, error: `discovery failed: ${job.error ?? 'no reason given'}` },
        actor,
        details,
      );
      return;
    case JobStatus.cancelled:
      draft.changeRun(
        RunStatus.cancelled,
        { completedAt, error: `discovery was cancelled: ${job.error ?? 'no reason given'}` },
        actor,
        details,
      );
      return;
    default:
      assertNever(job.status, 'job status');
  }
}

/** Creates the plan from `discovery` when the run has none; the run is running from then on. */
function ensurePlan(draft: RunProgressDraft, discovery: DiscoveryOutput | undefined): void {
  if (draft.materialised) return;
  if (discovery === undefined) throw new RunNotDiscoveredError(draft.run.id);
  draft.materialise(discovery, null);
  draft.changeRun(RunStatus.running, {}, RECONCILER_ACTOR);
}

/** A record's time in the one form the rules compare: ISO-8601 in UTC. */
function isoTime(time: string | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString();
}

function byName([left]: [string, unknown], [right]: [string, unknown]): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
