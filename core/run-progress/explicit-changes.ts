import type { UpdateExecutionStatusRequest } from '../contracts/api.js';
import { ExecutionStatus, isTerminalExecutionStatus, RunStatus } from '../statuses.js';
import { TransitionOutcome, type TransitionResult } from '../transitions.js';
import type { RunProgressDraft } from './run-progress-draft.js';

/*
 * Changes someone asks for explicitly (the API's cancel and status endpoints, a workflow
 * engine), as opposed to those the reconciler learns from job records. They go through the
 * same draft, so the same transition rules and the same derivation apply.
 */

/**
 * Cancels a run (DESIGN.md section 5): the run becomes `cancelled`, and everything that has
 * not ended stops: pending phases, tasks, steps and releases end `skipped` (they never
 * started), running ones `cancelled`. A run that has already ended is left as it is; the
 * result says so.
 */
export function cancelRun(
  draft: RunProgressDraft,
  actor: string,
  reason?: string,
): TransitionResult<RunStatus> {
  const result = draft.changeRun(
    RunStatus.cancelled,
    { error: reason ?? `cancelled by ${actor}` },
    actor,
    reason === undefined ? {} : { reason },
  );
  if (result.outcome !== TransitionOutcome.applied) return result;
  for (const task of draft.tasks()) {
    for (const step of draft.stepsOf(task.jobId)) {
      const stop = stoppedStatus(step.status);
      if (stop !== undefined) draft.changeStep(task.jobId, step.name, stop, {}, actor);
    }
    const stop = stoppedStatus(task.status);
    if (stop !== undefined) draft.changeTask(task.jobId, stop, {}, actor);
  }
  for (const release of draft.releases()) {
    const stop = stoppedStatus(release.status);
    if (stop !== undefined) draft.changeRelease(release.jobId, stop, {}, actor);
  }
  return result;
}

/** Applies `PUT /v1/tasks/{id}/status` to the task with database id `taskId`. */
export function updateTaskStatus(
  draft: RunProgressDraft,
  taskId: string,
  update: UpdateExecutionStatusRequest,
  actor: string,
): TransitionResult<ExecutionStatus> {
  const task = draft.taskById(taskId);
  return draft.changeTask(
    task.jobId,
    update.status,
    { error: update.message ?? null },
    actor,
    details(update),
  );
}

/** Applies `PUT /v1/steps/{id}/status` to the step with database id `stepId`. */
export function updateStepStatus(
  draft: RunProgressDraft,
  stepId: string,
  update: UpdateExecutionStatusRequest,
  actor: string,
): TransitionResult<ExecutionStatus> {
  const step = draft.stepById(stepId);
  return draft.changeStep(
    step.jobId,
    step.name,
    update.status,
    {
      error: update.message ?? null,
      exitCode: update.exit_code ?? null,
      logsKey: update.logs_key ?? null,
    },
    actor,
    details(update),
  );
}

/** Moves the run itself (a workflow engine reporting its end, say), with a reason. */
export function updateRunStatus(
  draft: RunProgressDraft,
  status: RunStatus,
  actor: string,
  reason?: string,
): TransitionResult<RunStatus> {
  return draft.changeRun(
    status,
    { error: reason ?? null },
    actor,
    reason === undefined ? {} : { reason },
  );
}

function stoppedStatus(status: ExecutionStatus): ExecutionStatus | undefined {
  if (isTerminalExecutionStatus(status)) return undefined;
  return status === ExecutionStatus.pending ? ExecutionStatus.skipped : ExecutionStatus.cancelled;
}

function details(update: UpdateExecutionStatusRequest): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      exit_code: update.exit_code,
      logs_key: update.logs_key,
      message: update.message,
    }).filter(([, value]) => value !== undefined),
  );
}
