import type {
  RunStatusEvent,
  StatusEventFailure,
  StatusEventTask,
  StatusPoint,
} from '../contracts/status-events.js';
import { ExecutionStatus, RunStatus } from '../statuses.js';
import type { PhaseState, ReleaseState, RunState, StepState, TaskState } from './run-snapshot.js';

/** What the facts are read from: a run's progress ({@link RunProgressDraft} is one). */
export interface RunProgressView {
  readonly run: RunState;
  readonly materialised: boolean;
  phases(): readonly PhaseState[];
  /** In plan order. */
  tasks(): readonly TaskState[];
  stepsOf(jobId: string): readonly StepState[];
  releases(): readonly ReleaseState[];
}

/** A failure of a task or release, and when it happened. */
export interface TimedFailure {
  readonly failure: StatusEventFailure;
  /** When the failed task or release ended; `null` when it did not say. */
  readonly at: string | null;
}

/** The run's phase group numbers, ascending; empty before discovery. */
export function groupNumbers(view: RunProgressView): number[] {
  return [...new Set(view.phases().map((phase) => phase.group))].sort((a, b) => a - b);
}

/**
 * How many phase groups are done: the leading groups (groups run one after another) whose
 * tasks all succeeded. A group without tasks is done as soon as the groups before it are.
 */
export function groupsCompleted(view: RunProgressView): number {
  const tasks = view.tasks();
  let completed = 0;
  for (const group of groupNumbers(view)) {
    const done = tasks
      .filter((task) => task.group === group)
      .every((task) => task.status === ExecutionStatus.success);
    if (!done) break;
    completed += 1;
  }
  return completed;
}

/**
 * The first failure among the run's tasks and releases: the failed one that ended first (plan
 * order breaks ties), with its first failed step. Independent of the order in which the
 * failures were learnt, so every reconciliation of the same records agrees on it.
 */
export function firstTaskFailure(view: RunProgressView): TimedFailure | undefined {
  const failedTask = earliest(
    view.tasks().filter((task) => task.status === ExecutionStatus.failed),
  );
  if (failedTask !== undefined) {
    const step = earliest(
      view.stepsOf(failedTask.jobId).filter((row) => row.status === ExecutionStatus.failed),
    );
    return {
      at: failedTask.completedAt,
      failure: {
        phase: failedTask.phase,
        project: failedTask.project,
        step: step?.name ?? null,
        message: failedTask.error ?? stepFailureMessage(step),
      },
    };
  }
  const failedRelease = earliest(
    view.releases().filter((release) => release.status === ExecutionStatus.failed),
  );
  if (failedRelease === undefined) return undefined;
  return {
    at: failedRelease.completedAt,
    failure: {
      phase: null,
      project: failedRelease.project,
      step: null,
      message: failedRelease.error ?? `the release of ${failedRelease.project} failed`,
    },
  };
}

/**
 * What made a failed run fail: its first task or release failure, else discovery or the reason
 * recorded on the run; `null` for a run that has not failed.
 */
export function runFailure(view: RunProgressView): StatusEventFailure | null {
  if (view.run.status !== RunStatus.failed) return null;
  const failure = firstTaskFailure(view);
  if (failure !== undefined) return failure.failure;
  return { phase: null, project: null, step: null, message: view.run.error ?? 'the run failed' };
}

/** Every task of the run, for the pull-request summary; empty before discovery. */
export function statusEventTasks(view: RunProgressView): StatusEventTask[] {
  return view.tasks().map((task) => ({
    phase: task.phase,
    group: task.group,
    project: task.project,
    status: task.status,
    duration_ms: durationMs(task.startedAt, task.completedAt),
  }));
}

/**
 * The status event of a run at `point`, numbered `sequence`. `target_url` is left `null`: the
 * publisher fills it in from the run's workflow when it sends the event.
 */
export function buildRunStatusEvent(
  view: RunProgressView,
  point: StatusPoint,
  sequence: number,
): RunStatusEvent {
  const run = view.run;
  return {
    run_id: run.id,
    repository: run.repository,
    commit_sha: run.commitSha,
    point,
    run_status: run.status,
    sequence,
    groups_total: groupNumbers(view).length,
    groups_completed: groupsCompleted(view),
    started_at: run.startedAt,
    completed_at: run.completedAt,
    target_url: null,
    github_context: run.githubContext,
    failure: runFailure(view),
    tasks: statusEventTasks(view),
  };
}

function stepFailureMessage(step: StepState | undefined): string {
  if (step === undefined) return 'the task failed';
  const exit = step.exitCode === null ? '' : ` with exit code ${step.exitCode}`;
  return `step ${step.name} failed${exit}`;
}

/** The row that ended first (rows without an end time come last); the first row on ties. */
function earliest<T extends { readonly completedAt: string | null }>(
  rows: readonly T[],
): T | undefined {
  let first: T | undefined;
  for (const row of rows) {
    if (first === undefined) first = row;
    else if (row.completedAt !== null) {
      if (first.completedAt === null || row.completedAt < first.completedAt) first = row;
    }
  }
  return first;
}

function durationMs(startedAt: string | null, completedAt: string | null): number | null {
  if (startedAt === null || completedAt === null) return null;
  return Math.max(0, Date.parse(completedAt) - Date.parse(startedAt));
}
