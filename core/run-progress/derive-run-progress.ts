import { assertNever } from '../assert-never.js';
import { StatusPoint } from '../contracts/status-events.js';
import {
  ExecutionStatus,
  isTerminalExecutionStatus,
  isTerminalRunStatus,
  RunStatus,
} from '../statuses.js';
import type { RunProgressDraft } from './run-progress-draft.js';
import type { TaskState } from './run-snapshot.js';
import { firstTaskFailure, groupNumbers, groupsCompleted } from './run-status-facts.js';

/** The actor of every change the rules derive rather than someone reporting it. */
export const RECONCILER_ACTOR = 'reconciler';

/** The facts of a run that decide which status points a change crossed. */
export interface ProgressPointFacts {
  readonly materialised: boolean;
  readonly runStatus: RunStatus;
  readonly groupsCompleted: number;
}

/** Reads the {@link ProgressPointFacts} of a draft, before and after a change. */
export function progressPointFacts(draft: RunProgressDraft): ProgressPointFacts {
  return {
    materialised: draft.materialised,
    runStatus: draft.run.status,
    groupsCompleted: groupsCompleted(draft),
  };
}

/**
 * The status points (DESIGN.md section 7) a change crossed, in order: `discovered` when the
 * plan appeared, `group_completed` when more groups are done, `completed` when the run ended.
 * A run that had already ended crosses none; `group_completed` gives way to `completed` when
 * the last group ends the run.
 */
export function statusPointsBetween(
  before: ProgressPointFacts,
  after: ProgressPointFacts,
): StatusPoint[] {
  if (isTerminalRunStatus(before.runStatus)) return [];
  const points: StatusPoint[] = [];
  const ended = isTerminalRunStatus(after.runStatus);
  if (!before.materialised && after.materialised) points.push(StatusPoint.discovered);
  else if (after.groupsCompleted > before.groupsCompleted && !ended) {
    points.push(StatusPoint.groupCompleted);
  }
  if (ended) points.push(StatusPoint.completed);
  return points;
}

/**
 * Derives everything that follows from the statuses of the run's tasks, steps and releases
 * (DESIGN.md section 5), through the transition rules:
 * - a pending task with a started step is running;
 * - the steps left pending or running in a task that ended without success end `skipped` or
 *   `cancelled`;
 * - a failed task or release fails the run (fail fast), at the time of the earliest failure;
 * - every task succeeded and every release succeeded (or was recorded as not run, `skipped`):
 *   the run succeeds; every started one ended, some cancelled and none failed: the run is
 *   cancelled;
 * - once the run has ended, tasks of groups that never started and releases of a release stage
 *   that never started end `skipped` (tasks of a started group wait for their jobs' end);
 * - a phase's status follows its tasks; a phase without tasks succeeds with its group.
 */
export function deriveRunProgress(draft: RunProgressDraft): void {
  startTasksOfStartedSteps(draft);
  settleStepsOfEndedTasks(draft);
  settleRunFailure(draft);
  settleRunEnd(draft);
  skipWhatNeverStarted(draft);
  derivePhases(draft);
}

/** A task whose step started is running, even before its job's own record says so. */
function startTasksOfStartedSteps(draft: RunProgressDraft): void {
  for (const task of draft.tasks()) {
    if (task.status !== ExecutionStatus.pending) continue;
    const started = draft.stepsOf(task.jobId).filter(hasStarted);
    if (started.length === 0) continue;
    draft.changeTask(
      task.jobId,
      ExecutionStatus.running,
      { startedAt: earliest(started.map((step) => step.startedAt)) },
      RECONCILER_ACTOR,
    );
  }
}

function settleStepsOfEndedTasks(draft: RunProgressDraft): void {
  for (const task of draft.tasks()) {
    if (!isTerminalExecutionStatus(task.status) || task.status === ExecutionStatus.success) {
      continue;
    }
    for (const step of draft.stepsOf(task.jobId)) {
      if (step.status === ExecutionStatus.pending) {
        draft.changeStep(task.jobId, step.name, ExecutionStatus.skipped, {}, RECONCILER_ACTOR, {
          reason: `task ${task.status}`,
        });
      } else if (step.status === ExecutionStatus.running) {
        draft.changeStep(
          task.jobId,
          step.name,
          ExecutionStatus.cancelled,
          { completedAt: task.completedAt },
          RECONCILER_ACTOR,
          { reason: `task ${task.status}` },
        );
      }
    }
  }
}

function settleRunFailure(draft: RunProgressDraft): void {
  const first = firstTaskFailure(draft);
  if (first === undefined) return;
  const message = describeFailure(first.failure);
  if (!isTerminalRunStatus(draft.run.status)) {
    draft.changeRun(RunStatus.failed, { completedAt: first.at, error: message }, RECONCILER_ACTOR, {
      ...first.failure,
    });
  } else if (draft.run.status === RunStatus.failed && first.at !== null) {
    draft.correctRunCompletion(first.at, message);
  }
}

function settleRunEnd(draft: RunProgressDraft): void {
  if (!draft.materialised || isTerminalRunStatus(draft.run.status)) return;
  const tasks = draft.tasks();
  const releases = draft.releases();
  const all = [...tasks, ...releases];
  // A release skipped before it started (a plane without a release pool records it so) does
  // not hold the run back: every task succeeded and nothing else was asked to run.
  if (
    tasks.every((row) => row.status === ExecutionStatus.success) &&
    releases.every(
      (row) => row.status === ExecutionStatus.success || row.status === ExecutionStatus.skipped,
    )
  ) {
    draft.changeRun(
      RunStatus.success,
      { completedAt: latest(all.map((row) => row.completedAt)) ?? draft.run.discoveredAt },
      RECONCILER_ACTOR,
    );
    return;
  }
  const started = [...startedTasks(tasks), ...releases.filter(hasStarted)];
  const cancelled = started.some((row) => row.status === ExecutionStatus.cancelled);
  if (cancelled && started.every((row) => isTerminalExecutionStatus(row.status))) {
    draft.changeRun(
      RunStatus.cancelled,
      {
        completedAt: latest(started.map((row) => row.completedAt)),
        error: 'a task was cancelled',
      },
      RECONCILER_ACTOR,
    );
  }
}

function skipWhatNeverStarted(draft: RunProgressDraft): void {
  const run = draft.run;
  if (!isTerminalRunStatus(run.status) || run.status === RunStatus.success) return;
  const reason = { reason: `run ${run.status}` };
  const tasks = draft.tasks();
  const lastStartedGroup = Math.max(0, ...tasks.filter(hasStarted).map((task) => task.group));
  for (const task of tasks) {
    if (task.status === ExecutionStatus.pending && task.group > lastStartedGroup) {
      draft.changeTask(task.jobId, ExecutionStatus.skipped, {}, RECONCILER_ACTOR, reason);
    }
  }
  settleStepsOfEndedTasks(draft);
  const releases = draft.releases();
  if (releases.some(hasStarted)) return;
  for (const release of releases) {
    if (release.status === ExecutionStatus.pending) {
      draft.changeRelease(release.jobId, ExecutionStatus.skipped, {}, RECONCILER_ACTOR);
    }
  }
}

function derivePhases(draft: RunProgressDraft): void {
  const groups = groupNumbers(draft);
  const completedGroups = new Set(groups.slice(0, groupsCompleted(draft)));
  const tasks = draft.tasks();
  const runEnded = isTerminalRunStatus(draft.run.status);
  for (const phase of draft.phases()) {
    const phaseTasks = tasks.filter((task) => task.phase === phase.name);
    const status =
      phaseTasks.length === 0
        ? emptyPhaseStatus(completedGroups.has(phase.group), runEnded)
        : phaseStatusOf(phaseTasks);
    const completedAt =
      status === ExecutionStatus.skipped
        ? null
        : phaseCompletion(draft, phaseTasks, phase.group, status);
    const firstTaskStart = earliest(phaseTasks.map((task) => task.startedAt));
    draft.changePhase(
      phase.name,
      status,
      { startedAt: firstTaskStart ?? completedAt, completedAt },
      RECONCILER_ACTOR,
    );
    // A phase starts with its first task, whichever task's start was learnt first.
    if (firstTaskStart !== null) draft.correctPhaseStart(phase.name, firstTaskStart);
    if (status === ExecutionStatus.failed && completedAt !== null) {
      draft.correctPhaseCompletion(phase.name, completedAt);
    }
  }
}

/**
 * When a phase ended, independent of the order its tasks' ends were learnt: a failed phase at
 * its earliest failure, another at its last task's end, a phase without tasks when its group
 * (and so the groups before it) ended.
 */
function phaseCompletion(
  draft: RunProgressDraft,
  phaseTasks: readonly TaskState[],
  group: number,
  status: ExecutionStatus,
): string | null {
  if (status === ExecutionStatus.failed) {
    return earliest(
      phaseTasks
        .filter((task) => task.status === ExecutionStatus.failed)
        .map((task) => task.completedAt),
    );
  }
  if (phaseTasks.length > 0) return latest(phaseTasks.map((task) => task.completedAt));
  const before = draft.tasks().filter((task) => task.group <= group);
  return latest(before.map((task) => task.completedAt)) ?? draft.run.discoveredAt;
}

/**
 * The status of a phase from its tasks: failed if one failed; when all ended, success if all
 * succeeded, skipped if none started, cancelled otherwise; running once one started.
 */
export function phaseStatusOf(tasks: readonly Pick<TaskState, 'status'>[]): ExecutionStatus {
  const statuses = tasks.map((task) => task.status);
  if (statuses.includes(ExecutionStatus.failed)) return ExecutionStatus.failed;
  if (statuses.every(isTerminalExecutionStatus)) {
    if (statuses.every((status) => status === ExecutionStatus.success)) {
      return ExecutionStatus.success;
    }
    if (statuses.every((status) => status === ExecutionStatus.skipped)) {
      return ExecutionStatus.skipped;
    }
    return ExecutionStatus.cancelled;
  }
  return statuses.some((status) => status !== ExecutionStatus.pending)
    ? ExecutionStatus.running
    : ExecutionStatus.pending;
}

function emptyPhaseStatus(groupCompleted: boolean, runEnded: boolean): ExecutionStatus {
  if (groupCompleted) return ExecutionStatus.success;
  return runEnded ? ExecutionStatus.skipped : ExecutionStatus.pending;
}

/** The one-line reason a failure gives the run. */
function describeFailure(failure: {
  phase: string | null;
  project: string | null;
  step: string | null;
  message: string;
}): string {
  const where = [failure.phase, failure.project, failure.step].filter((part) => part !== null);
  return where.length === 0 ? failure.message : `${where.join('/')}: ${failure.message}`;
}

function startedTasks(tasks: readonly TaskState[]): TaskState[] {
  const lastStartedGroup = Math.max(0, ...tasks.filter(hasStarted).map((task) => task.group));
  return tasks.filter((task) => task.group <= lastStartedGroup);
}

function hasStarted(row: { readonly status: ExecutionStatus }): boolean {
  switch (row.status) {
    case ExecutionStatus.pending:
    case ExecutionStatus.skipped:
      return false;
    case ExecutionStatus.running:
    case ExecutionStatus.success:
    case ExecutionStatus.failed:
    case ExecutionStatus.cancelled:
      return true;
    default:
      return assertNever(row.status, 'execution status');
  }
}

function earliest(times: readonly (string | null)[]): string | null {
  return times.reduce<string | null>(
    (first, time) => (time !== null && (first === null || time < first) ? time : first),
    null,
  );
}

function latest(times: readonly (string | null)[]): string | null {
  return times.reduce<string | null>(
    (last, time) => (time !== null && (last === null || time > last) ? time : last),
    null,
  );
}
