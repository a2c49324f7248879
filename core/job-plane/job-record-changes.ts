import { z } from 'zod';
import {
  JobIdSegmentSchema,
  JobRecordSchema,
  jobRecordTtl,
  parseJobId,
  StepProgressSchema,
  type JobRecord,
  type StepProgress,
} from '../contracts/jobs.js';
import type { JobStatusChanges, JobUpdateResult, NewJob } from '../ports/job-store.js';
import { isTerminalJobStatus, JobStatus } from '../statuses.js';
import {
  transitionExecution,
  transitionJob,
  TransitionOutcome,
  type IgnoredReason,
} from '../transitions.js';
import { JobPlaneError } from './job-plane-errors.js';

/*
 * What every job store writes for each operation, decided once here so the embedded store and
 * the DynamoDB store cannot drift apart: the stores only differ in how they make the write
 * conditional on the state these decisions were taken from.
 */

/** A decision about one write: the attributes to set, or why nothing is written. */
export type JobWriteDecision<Changes> =
  | { readonly outcome: typeof TransitionOutcome.applied; readonly changes: Changes }
  | { readonly outcome: typeof TransitionOutcome.unchanged }
  | { readonly outcome: typeof TransitionOutcome.ignored; readonly reason: IgnoredReason };

/** A decision not to write: the request was a duplicate, or late, or invalid. */
export type JobNoWriteDecision = Exclude<
  JobWriteDecision<unknown>,
  { readonly outcome: typeof TransitionOutcome.applied }
>;

/** What a store answers when it wrote nothing: the decision, with the record as it is. */
export function unwrittenResult(decision: JobNoWriteDecision, record: JobRecord): JobUpdateResult {
  return decision.outcome === TransitionOutcome.unchanged
    ? { outcome: 'unchanged', record }
    : { outcome: 'ignored', reason: decision.reason, record };
}

/** The attributes a status change sets; absent ones are left as they are. */
export interface JobStatusWrite extends JobStatusChanges {
  readonly status: JobStatus;
  readonly updated_at: string;
  readonly started_at?: string;
  readonly completed_at?: string;
}

/** The attributes a step update sets: the step's whole entry, merged with what it had. */
export interface JobStepWrite {
  readonly step: StepProgress;
  readonly updated_at: string;
}

/** A step update was refused before reaching the store: a bad step name or progress. */
export class StepProgressFormatError extends JobPlaneError {}

/**
 * Checks a step update before any store sees it, so a bad one can never make a stored record
 * unreadable. Step names follow the rules of job id segments (letters, digits, `.`, `_`, `-`).
 * Returns the progress without unknown fields; throws {@link StepProgressFormatError}.
 */
export function checkStepUpdate(stepName: string, progress: StepProgress): StepProgress {
  const name = JobIdSegmentSchema.safeParse(stepName);
  if (!name.success) {
    throw new StepProgressFormatError(
      `step name ${JSON.stringify(stepName)} ${name.error.issues[0]?.message ?? 'is invalid'}`,
    );
  }
  const parsed = StepProgressSchema.safeParse(progress);
  if (!parsed.success) {
    throw new StepProgressFormatError(
      `progress of step ${stepName} is invalid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * A submission or status change was refused before reaching the store: a job id that does not
 * agree with its run and type, or a field the record schema would refuse on reading.
 */
export class JobRecordFormatError extends JobPlaneError {}

/** The fields a status change may set, as the record schema reads them back. */
const StatusChangesSchema = JobRecordSchema.pick({
  worker_id: true,
  result_location: true,
  error: true,
});

/**
 * The record a new submission writes: `pending`, not cancelled, stamped with `now` and with a
 * `ttl` of `created_at` + 7 days. `cancel_requested` is written explicitly so that stream
 * images carry it from the first one. Throws {@link JobRecordFormatError} unless `job_id` is
 * the deterministic id of a job of that run and type, so no store ever holds a record it could
 * not read back or list under its run.
 */
export function newJobRecord(job: NewJob, now: Date): JobRecord {
  const parts = parseJobId(job.job_id);
  if (parts === undefined || parts.runId !== job.run_id || parts.type !== job.type) {
    throw new JobRecordFormatError(
      `${JSON.stringify(job.job_id)} is not the id of a ${job.type} job of run ${JSON.stringify(job.run_id)}`,
    );
  }
  const createdAt = now.toISOString();
  return {
    job_id: job.job_id,
    run_id: job.run_id,
    type: job.type,
    status: JobStatus.pending,
    created_at: createdAt,
    updated_at: createdAt,
    ttl: jobRecordTtl(now),
    cancel_requested: false,
  };
}

/**
 * Decides a status change of `current` under {@link transitionJob}. An applied change stamps
 * `updated_at`, `started_at` on `running` (kept if already set) and `completed_at` on a terminal
 * status, and sets the given `changes`. An unchanged or ignored request writes nothing, its
 * `changes` included: only the writer whose change was applied (say, the worker that moved the
 * job to `running`) gets to record its `worker_id`.
 */
export function decideJobTransition(
  current: JobRecord,
  requested: JobStatus,
  changes: JobStatusChanges,
  now: Date,
): JobWriteDecision<JobStatusWrite> {
  const checked = StatusChangesSchema.safeParse(changes);
  if (!checked.success) {
    throw new JobRecordFormatError(
      `the changes to job ${current.job_id} are invalid: ${z.prettifyError(checked.error)}`,
    );
  }
  const decision = transitionJob(current.status, requested);
  if (decision.outcome !== TransitionOutcome.applied) return decision;
  const stamp = now.toISOString();
  return {
    outcome: TransitionOutcome.applied,
    changes: {
      status: decision.status,
      updated_at: stamp,
      ...(requested === JobStatus.running && current.started_at === undefined
        ? { started_at: stamp }
        : {}),
      ...(isTerminalJobStatus(requested) ? { completed_at: stamp } : {}),
      ...definedChanges(checked.data),
    },
  };
}

/**
 * Decides a step update under {@link transitionExecution}. A step the record does not know yet
 * takes any first status. An applied update merges `progress` over the step's entry, so a
 * completion keeps the `started_at` and `log_key` the start recorded. The job's own status
 * does not gate step updates: a worker reports its step cancelled after the job was.
 */
export function decideStepUpdate(
  current: JobRecord,
  stepName: string,
  progress: StepProgress,
  now: Date,
): JobWriteDecision<JobStepWrite> {
  const existing = current.steps?.[stepName];
  if (existing !== undefined) {
    const decision = transitionExecution(existing.status, progress.status);
    if (decision.outcome !== TransitionOutcome.applied) return decision;
  }
  return {
    outcome: TransitionOutcome.applied,
    changes: {
      step: { ...existing, ...definedChanges(progress), status: progress.status },
      updated_at: now.toISOString(),
    },
  };
}

/**
 * Whether `requestCancel` writes anything: not for a job that has ended, nor for one whose
 * cancellation was already asked for (so a repeated request makes no change record).
 */
export function needsCancelRequest(current: JobRecord): boolean {
  return !isTerminalJobStatus(current.status) && !current.cancel_requested;
}

/** The record after `changes` were written over `current`. */
export function applyJobStatusWrite(current: JobRecord, changes: JobStatusWrite): JobRecord {
  return { ...current, ...changes };
}

/** The record after a step write over `current`. */
export function applyJobStepWrite(
  current: JobRecord,
  stepName: string,
  write: JobStepWrite,
): JobRecord {
  return {
    ...current,
    updated_at: write.updated_at,
    steps: { ...current.steps, [stepName]: write.step },
  };
}

function definedChanges<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
