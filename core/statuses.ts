import { assertNever } from './assert-never.js';

/** The life of a pipeline run (DESIGN.md section 5): `pending → discovering → running → end`. */
export const RunStatus = {
  pending: 'pending',
  discovering: 'discovering',
  running: 'running',
  success: 'success',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
/** One of {@link RunStatus}. */
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
/** The run statuses a run never leaves. */
export type TerminalRunStatus =
  typeof RunStatus.success | typeof RunStatus.failed | typeof RunStatus.cancelled;

/**
 * The life of a phase, task or step execution: `pending → running → end`, or `skipped` when it
 * never started because of an earlier failure or a cancellation.
 */
export const ExecutionStatus = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
} as const;
/** One of {@link ExecutionStatus}. */
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];
/** The execution statuses a phase, task or step never leaves. */
export type TerminalExecutionStatus = Exclude<
  ExecutionStatus,
  typeof ExecutionStatus.pending | typeof ExecutionStatus.running
>;

/** The life of a queued job in the `pipeline-jobs` table; the jobs API reports the same words. */
export const JobStatus = {
  pending: 'pending',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
/** One of {@link JobStatus}. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
/** The job statuses a job never leaves. */
export type TerminalJobStatus = Exclude<
  JobStatus,
  typeof JobStatus.pending | typeof JobStatus.running
>;

/** What a job does, and so which queue and worker pool it goes to. */
export const JobType = {
  discovery: 'discovery',
  task: 'task',
  artifact: 'artifact',
  release: 'release',
} as const;
/** One of {@link JobType}. */
export type JobType = (typeof JobType)[keyof typeof JobType];

/** Every run status, in lifecycle order, for tables and validation. */
export const RUN_STATUSES: readonly RunStatus[] = Object.values(RunStatus);
/** Every execution status, in lifecycle order, for tables and validation. */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = Object.values(ExecutionStatus);
/** Every job status, in lifecycle order, for tables and validation. */
export const JOB_STATUSES: readonly JobStatus[] = Object.values(JobStatus);
/** Every job type. */
export const JOB_TYPES: readonly JobType[] = Object.values(JobType);

/** Whether a run has ended: such a run never changes status again. */
export function isTerminalRunStatus(status: RunStatus): status is TerminalRunStatus {
  switch (status) {
    case RunStatus.pending:
    case RunStatus.discovering:
    case RunStatus.running:
      return false;
    case RunStatus.success:
    case RunStatus.failed:
    case RunStatus.cancelled:
      return true;
    default:
      return assertNever(status, 'run status');
  }
}

/** Whether a phase, task or step has ended (including `skipped`): it never changes again. */
export function isTerminalExecutionStatus(
  status: ExecutionStatus,
): status is TerminalExecutionStatus {
  switch (status) {
    case ExecutionStatus.pending:
    case ExecutionStatus.running:
      return false;
    case ExecutionStatus.success:
    case ExecutionStatus.failed:
    case ExecutionStatus.cancelled:
    case ExecutionStatus.skipped:
      return true;
    default:
      return assertNever(status, 'execution status');
  }
}

/** Whether a job has ended: such a job never changes status again. */
export function isTerminalJobStatus(status: JobStatus): status is TerminalJobStatus {
  switch (status) {
    case JobStatus.pending:
    case JobStatus.running:
      return false;
    case JobStatus.completed:
    case JobStatus.failed:
    case JobStatus.cancelled:
      return true;
    default:
      return assertNever(status, 'job status');
  }
}

/** Narrows an unchecked value (a database column, a query parameter) to a {@link RunStatus}. */
export function isRunStatus(value: unknown): value is RunStatus {
  return RUN_STATUSES.includes(value as RunStatus);
}

/** Narrows an unchecked value to an {@link ExecutionStatus}. */
export function isExecutionStatus(value: unknown): value is ExecutionStatus {
  return EXECUTION_STATUSES.includes(value as ExecutionStatus);
}

/** Narrows an unchecked value to a {@link JobStatus}. */
export function isJobStatus(value: unknown): value is JobStatus {
  return JOB_STATUSES.includes(value as JobStatus);
}

/** Narrows an unchecked value to a {@link JobType}. */
export function isJobType(value: unknown): value is JobType {
  return JOB_TYPES.includes(value as JobType);
}
