import type { JobRecord } from '../core/contracts/jobs.js';
import type { PlannedGroup, PlannedTask, RunPlan } from '../core/plan/run-plan.js';
import {
  ExecutionStatus,
  type TerminalExecutionStatus,
  type TerminalRunStatus,
} from '../core/statuses.js';
import { assertNever } from '../core/assert-never.js';
import { executionStatusOfJob as jobExecutionStatus } from '../core/run-progress/apply-job-record.js';

/** How one task of the plan ended; `record` is absent for a task that was never submitted. */
export interface TaskOutcome {
  readonly task: PlannedTask;
  readonly status: TerminalExecutionStatus;
  readonly record?: JobRecord | undefined;
}

/** How the release stage ended, when it ran. */
export interface ReleaseOutcome {
  readonly project: string;
  readonly status: TerminalExecutionStatus;
  readonly record?: JobRecord | undefined;
}

/** What made a run fail or stop: the first job that did not complete, or the engine's reason. */
export interface RunFailure {
  readonly jobId?: string | undefined;
  readonly phase?: string | undefined;
  readonly project?: string | undefined;
  /** The first step of that job that failed, when the job recorded one. */
  readonly step?: string | undefined;
  readonly message: string;
}

/** The end of a run in the in-process engine. */
export interface RunOutcome {
  readonly runId: string;
  readonly status: TerminalRunStatus;
  readonly startedAt: Date;
  readonly completedAt: Date;
  readonly discovery?: JobRecord | undefined;
  /** Absent when discovery did not complete. */
  readonly plan?: RunPlan | undefined;
  /** Every task of the plan, in plan order. */
  readonly tasks: readonly TaskOutcome[];
  readonly release: readonly ReleaseOutcome[];
  /** Why a release that discovery triggered did not run, when it did not. */
  readonly releaseSkipped?: string | undefined;
  readonly failure?: RunFailure | undefined;
}

/** What the engine tells observers while a run goes on (progress views, tests). */
export type EngineEvent =
  | { readonly type: 'discovery-started'; readonly runId: string; readonly jobId: string }
  | { readonly type: 'discovery-ended'; readonly runId: string; readonly record: JobRecord }
  | { readonly type: 'planned'; readonly runId: string; readonly plan: RunPlan }
  | { readonly type: 'group-started'; readonly runId: string; readonly group: PlannedGroup }
  | { readonly type: 'task-ended'; readonly runId: string; readonly outcome: TaskOutcome }
  | {
      readonly type: 'group-ended';
      readonly runId: string;
      readonly group: PlannedGroup;
      readonly status: TerminalExecutionStatus;
    }
  | { readonly type: 'release-skipped'; readonly runId: string; readonly reason: string }
  | { readonly type: 'release-ended'; readonly runId: string; readonly outcome: ReleaseOutcome }
  | { readonly type: 'run-ended'; readonly runId: string; readonly outcome: RunOutcome };

/**
 * The final execution status of a dispatched job's record, by the reconciler's own mapping
 * ({@link jobExecutionStatus}); a job still pending or running when its run ended was
 * abandoned with it: skipped if it never started, cancelled if it had.
 */
export function executionStatusOfJob(record: JobRecord): TerminalExecutionStatus {
  const status = jobExecutionStatus(record);
  switch (status) {
    case ExecutionStatus.pending:
      return ExecutionStatus.skipped;
    case ExecutionStatus.running:
      return ExecutionStatus.cancelled;
    case ExecutionStatus.success:
    case ExecutionStatus.failed:
    case ExecutionStatus.cancelled:
    case ExecutionStatus.skipped:
      return status;
    default:
      return assertNever(status, 'execution status');
  }
}

/** The first step of a job record that failed, by start time; undefined when none did. */
export function firstFailedStep(record: JobRecord): string | undefined {
  const failed = Object.entries(record.steps ?? {})
    .filter(([, progress]) => progress.status === ExecutionStatus.failed)
    .sort(([, left], [, right]) => (left.started_at ?? '').localeCompare(right.started_at ?? ''));
  return failed[0]?.[0];
}
