import type { StepProgress } from '../../core/contracts/jobs.js';
import type { JobStatusChanges } from '../../core/ports/job-store.js';
import {
  EXECUTION_STATUSES,
  isTerminalJobStatus,
  JOB_STATUSES,
  JobStatus,
} from '../../core/statuses.js';
import { transitionExecution, transitionJob, TransitionOutcome } from '../../core/transitions.js';
import { UpdateExpressionBuilder } from './dynamo-calls.js';

/*
 * The conditional UpdateItem writes of `DynamoJobStore`, built from the decisions of the core
 * rules. Each condition states exactly what the write was decided from, so a write that lost a
 * race fails its condition and returns the record that beat it, instead of applying over it.
 */

/** One conditional UpdateItem: its update and condition expressions, with their placeholders. */
export interface DynamoWrite {
  /** `SET ...` or `REMOVE ...`. */
  readonly update: string;
  /** Must imply that the item exists: UpdateItem would otherwise create it. */
  readonly condition: string;
  readonly expression: UpdateExpressionBuilder;
}

const TERMINAL_JOB_STATUSES = [JobStatus.completed, JobStatus.failed, JobStatus.cancelled];

/**
 * A status change as one write, conditional on the statuses the core transition rules let
 * `status` follow (`started_at` kept with `if_not_exists`); `undefined` when no status may lead
 * to it, so the request can only be unchanged or ignored.
 */
export function transitionWrite(
  status: JobStatus,
  changes: JobStatusChanges,
  stamp: string,
): DynamoWrite | undefined {
  const priors = JOB_STATUSES.filter(
    (prior) => transitionJob(prior, status).outcome === TransitionOutcome.applied,
  );
  if (priors.length === 0) return undefined;
  const expression = new UpdateExpressionBuilder();
  const assignments = assign(expression, {
    status,
    updated_at: stamp,
    ...(isTerminalJobStatus(status) ? { completed_at: stamp } : {}),
    ...changes,
  });
  if (status === JobStatus.running) assignments.push(ifNotExists(expression, 'started_at', stamp));
  return {
    update: `SET ${assignments.join(', ')}`,
    condition: isOneOf(expression, expression.name('status'), priors),
    expression,
  };
}

/**
 * A step update as one write: the whole `steps` map when the record has none, a new entry for
 * a step it lacks, or the reported fields of a step it has, conditional on the statuses that
 * step may come from (`undefined` when none may: the update can only be unchanged or ignored).
 * `known` holds the record's step names, `undefined` when it has no `steps`.
 */
export function stepWrite(
  stepName: string,
  progress: StepProgress,
  known: ReadonlySet<string> | undefined,
  stamp: string,
): DynamoWrite | undefined {
  const expression = new UpdateExpressionBuilder();
  const entry = definedFields(progress);
  const steps = expression.name('steps');
  const updatedAt = assign(expression, { updated_at: stamp });
  if (known === undefined) {
    const map = expression.value({ [stepName]: entry });
    const condition = `attribute_exists(job_id) AND attribute_not_exists(${steps})`;
    return {
      update: `SET ${[`${steps} = ${map}`, ...updatedAt].join(', ')}`,
      condition,
      expression,
    };
  }
  const step = `${steps}.${expression.name(stepName)}`;
  if (!known.has(stepName)) {
    const condition = `attribute_exists(${steps}) AND attribute_not_exists(${step})`;
    const assignments = [`${step} = ${expression.value(entry)}`, ...updatedAt];
    return { update: `SET ${assignments.join(', ')}`, condition, expression };
  }
  const priors = EXECUTION_STATUSES.filter(
    (prior) => transitionExecution(prior, progress.status).outcome === TransitionOutcome.applied,
  );
  if (priors.length === 0) return undefined;
  const fields = Object.entries(entry).map(
    ([field, value]) => `${step}.${expression.name(field)} = ${expression.value(value)}`,
  );
  return {
    update: `SET ${[...fields, ...updatedAt].join(', ')}`,
    condition: isOneOf(expression, `${step}.${expression.name('status')}`, priors),
    expression,
  };
}

/** `cancel_requested` set, unless the job has ended or was already asked to stop. */
export function cancelRequestWrite(stamp: string): DynamoWrite {
  const expression = new UpdateExpressionBuilder();
  const assignments = assign(expression, { cancel_requested: true, updated_at: stamp });
  const ended = isOneOf(expression, expression.name('status'), TERMINAL_JOB_STATUSES);
  const condition = `attribute_exists(job_id) AND NOT (${ended}) AND ${notCancelled(expression)}`;
  return { update: `SET ${assignments.join(', ')}`, condition, expression };
}

/** What a claim was decided from: the record's status, owner and heartbeat as they were read. */
export type ClaimedFrom = Readonly<{
  status: JobStatus;
  worker_id?: string | undefined;
  heartbeat_at?: string | undefined;
}>;

/**
 * A claim or takeover: running under `workerId` with a fresh heartbeat (`started_at` kept with
 * `if_not_exists`), on the condition that no cancellation was asked for and that the record is
 * still as it was decided from: only its status when the claim assumes a pending job
 * (`from` undefined), else its status, owner and heartbeat, so two takers never both win.
 */
export function claimWrite(
  workerId: string,
  stamp: string,
  from: ClaimedFrom | undefined,
): DynamoWrite {
  const expression = new UpdateExpressionBuilder();
  const conditions = [sameAs(expression, 'status', from?.status ?? JobStatus.pending)];
  if (from !== undefined) {
    conditions.push(
      sameAs(expression, 'worker_id', from.worker_id),
      sameAs(expression, 'heartbeat_at', from.heartbeat_at),
    );
  }
  conditions.push(notCancelled(expression));
  const assignments = assign(expression, {
    status: JobStatus.running,
    worker_id: workerId,
    heartbeat_at: stamp,
    updated_at: stamp,
  });
  assignments.push(ifNotExists(expression, 'started_at', stamp));
  return {
    update: `SET ${assignments.join(', ')}`,
    condition: conditions.join(' AND '),
    expression,
  };
}

/** `SET heartbeat_at`, only while the job is running under `workerId`. */
export function heartbeatWrite(workerId: string, stamp: string): DynamoWrite {
  return ownerWrite(workerId, (expression) => {
    return `SET ${assign(expression, { heartbeat_at: stamp }).join(', ')}`;
  });
}

/** `REMOVE worker_id, heartbeat_at`, only while the job is running under `workerId`. */
export function releaseWrite(workerId: string): DynamoWrite {
  return ownerWrite(workerId, (expression) => {
    return `REMOVE ${expression.name('worker_id')}, ${expression.name('heartbeat_at')}`;
  });
}

/** A write made only while the job runs under `workerId`. */
function ownerWrite(
  workerId: string,
  update: (expression: UpdateExpressionBuilder) => string,
): DynamoWrite {
  const expression = new UpdateExpressionBuilder();
  const condition = `${sameAs(expression, 'status', JobStatus.running)} AND ${sameAs(expression, 'worker_id', workerId)}`;
  return { update: update(expression), condition, expression };
}

/** `#name = :value` for each defined field. */
function assign(expression: UpdateExpressionBuilder, fields: Record<string, unknown>): string[] {
  return Object.entries(definedFields(fields)).map(
    ([field, value]) => `${expression.name(field)} = ${expression.value(value)}`,
  );
}

/** Sets `field` only where it is not set yet (a job's first start stays its start). */
function ifNotExists(expression: UpdateExpressionBuilder, field: string, value: unknown): string {
  const name = expression.name(field);
  return `${name} = if_not_exists(${name}, ${expression.value(value)})`;
}

/** A condition that `field` still holds `value`, or is still absent when `value` is. */
function sameAs(expression: UpdateExpressionBuilder, field: string, value: unknown): string {
  const name = expression.name(field);
  return value === undefined
    ? `attribute_not_exists(${name})`
    : `${name} = ${expression.value(value)}`;
}

/** A condition that the attribute at `path` (already a placeholder) holds one of `values`. */
function isOneOf(
  expression: UpdateExpressionBuilder,
  path: string,
  values: readonly string[],
): string {
  return `${path} IN (${values.map((value) => expression.value(value)).join(', ')})`;
}

/** A condition that no cancellation was asked for. */
function notCancelled(expression: UpdateExpressionBuilder): string {
  const cancel = expression.name('cancel_requested');
  return `(attribute_not_exists(${cancel}) OR ${cancel} = ${expression.value(false)})`;
}

/** The fields whose value is defined (DynamoDB refuses `undefined`). */
function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
