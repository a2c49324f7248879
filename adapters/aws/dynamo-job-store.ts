import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { JobRecordSchema, type JobRecord, type StepProgress } from '../../core/contracts/jobs.js';
import {
  checkStepUpdate,
  decideJobTransition,
  decideStepUpdate,
  JobRecordFormatError,
  newJobRecord,
  unwrittenResult,
} from '../../core/job-plane/job-record-changes.js';
import { JobNotFoundError, JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import {
  checkJobClaimRequest,
  decideJobClaim,
  JobClaimOutcome,
  type CreateJobResult,
  type JobClaimRequest,
  type JobClaimResult,
  type JobOwnershipResult,
  type JobStatusChanges,
  type JobStore,
  type JobUpdateResult,
  type NewJob,
} from '../../core/ports/job-store.js';
import type { RetryOptions } from '../../core/retry.js';
import {
  EXECUTION_STATUSES,
  isTerminalJobStatus,
  JOB_STATUSES,
  JobStatus,
} from '../../core/statuses.js';
import { transitionExecution, transitionJob, TransitionOutcome } from '../../core/transitions.js';
import { sdkClientConfig, type AwsClientConfig } from './aws-client-config.js';
import { JOBS_BY_RUN_INDEX } from './job-plane-resources.js';
import { ConditionNotMet, DynamoCalls, UpdateExpressionBuilder } from './dynamo-calls.js';

/** Options of {@link DynamoJobStore}; only `tableName` is required. */
export interface DynamoJobStoreOptions {
  /** The jobs table (`pipeline-jobs` in production), made by `createJobsTable` or the stacks. */
  readonly tableName: string;
  /** A client to share; the store never destroys it. Without one the store makes its own. */
  readonly client?: DynamoDBClient;
  /** Settings of the client the store makes when none is given. */
  readonly clientConfig?: AwsClientConfig;
  /** Retries of throttled and 5xx calls; default 5 attempts, 50 ms doubling to 2 s, jitter 50 ms. */
  readonly retry?: RetryOptions;
  /** Conflicting concurrent writes one update rides out before it gives up; default 10. */
  readonly maxConflicts?: number;
  /** The clock that stamps records; injectable for tests. */
  readonly now?: () => Date;
}

/** The default retry of throttled and 5xx calls: short, since callers wait on them. */
const DEFAULT_CALL_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  jitterMs: 50,
};

const TERMINAL_JOB_STATUSES = [JobStatus.completed, JobStatus.failed, JobStatus.cancelled];

/** How many jobs' step names the store remembers to shape its first step write (a hint). */
const REMEMBERED_JOBS = 1000;

/** The fields a status change may set, as the record schema reads them back. */
const StatusChangesSchema = JobRecordSchema.pick({
  worker_id: true,
  result_location: true,
  error: true,
});

/** The outcome of one conditional UpdateItem: the new record, or the record that failed it. */
type ConditionalUpdate =
  | { readonly written: true; readonly record: JobRecord }
  | { readonly written: false; readonly existing: JobRecord };

/**
 * The job store on DynamoDB (DESIGN.md section 5): one item per job keyed by `job_id`, the
 * `run_id` index for a run's jobs, and every change a conditional write, so the table's stream
 * carries exactly the changes that were applied.
 *
 * Submission is `attribute_not_exists(job_id)`: a second submission gets the stored record
 * back from the failed condition (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). A status
 * change is one UpdateItem conditional on the statuses the core transition rules let it come
 * from; when the condition fails, the record it returns is classified (unchanged or ignored)
 * without another read. A claim first assumes a pending job, then decides from the returned
 * record and writes on the condition that what it decided from (status, owner, heartbeat) is
 * still there. A step update is written in the shape the store expects from what it saw of
 * the job (no steps yet, a new step, or a known one); when the guess is wrong, it decides from
 * the returned record and writes conditionally on it. A writer that loses a race decides again
 * from the record the failed condition returned; statuses only move forward, so such conflicts
 * are few and bounded.
 *
 * Every SDK error becomes a `JobPlaneOperationError` naming the operation and the table;
 * throttling and 5xx are retried first, credential and missing-table errors never.
 */
export class DynamoJobStore implements JobStore {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly documents: DynamoDBDocumentClient;
  private readonly calls: DynamoCalls;
  private readonly maxConflicts: number;
  private readonly now: () => Date;
  /** Step names last seen per job: only shapes the first attempt of a step update. */
  private readonly stepNames = new Map<string, ReadonlySet<string>>();
  private closed = false;

  constructor(options: DynamoJobStoreOptions) {
    this.tableName = options.tableName;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new DynamoDBClient(sdkClientConfig(options.clientConfig));
    this.documents = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.calls = new DynamoCalls(this.tableName, { ...DEFAULT_CALL_RETRY, ...options.retry });
    this.maxConflicts = options.maxConflicts ?? 10;
    this.now = options.now ?? (() => new Date());
  }

  async create(job: NewJob): Promise<CreateJobResult> {
    const record = newJobRecord(job, this.now());
    try {
      await this.calls.send('dynamodb:PutItem', () =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: record,
            ConditionExpression: 'attribute_not_exists(job_id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { created: true, record };
    } catch (error) {
      if (!(error instanceof ConditionNotMet)) throw error;
      const existing =
        error.existing === undefined
          ? await this.get(job.job_id)
          : this.parse('dynamodb:PutItem', error.existing);
      if (existing === undefined) {
        throw new JobPlaneOperationError(
          'dynamodb:PutItem',
          this.tableName,
          'condition failed on a missing job',
          { retryable: true },
        );
      }
      return { created: false, existing };
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const output = await this.calls.send('dynamodb:GetItem', () =>
      this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { job_id: jobId }, ConsistentRead: true }),
      ),
    );
    return output.Item === undefined ? undefined : this.parse('dynamodb:GetItem', output.Item);
  }

  /** Reads the `run_id` index page by page; on AWS the index is eventually consistent. */
  async listByRun(runId: string): Promise<readonly JobRecord[]> {
    const records: JobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.calls.send('dynamodb:Query', () =>
        this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: JOBS_BY_RUN_INDEX,
            KeyConditionExpression: 'run_id = :run',
            ExpressionAttributeValues: { ':run': runId },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of output.Items ?? []) records.push(this.parse('dynamodb:Query', item));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return records.sort((left, right) => compareText(left.job_id, right.job_id));
  }

  /**
   * One UpdateItem conditional on the statuses `status` may follow (`started_at` kept with
   * `if_not_exists`); when the condition fails, the returned record says unchanged or ignored.
   */
  async transition(
    jobId: string,
    status: JobStatus,
    changes: JobStatusChanges = {},
  ): Promise<JobUpdateResult> {
    const checked = StatusChangesSchema.safeParse(changes);
    if (!checked.success) {
      throw new JobRecordFormatError(
        `the changes to job ${jobId} are invalid: ${z.prettifyError(checked.error)}`,
      );
    }
    const priors = JOB_STATUSES.filter(
      (prior) => transitionJob(prior, status).outcome === TransitionOutcome.applied,
    );
    let current: JobRecord | undefined;
    if (priors.length === 0) {
      current = await this.get(jobId);
      if (current === undefined) throw new JobNotFoundError(jobId);
    } else {
      const stamp = this.now().toISOString();
      const expression = new UpdateExpressionBuilder();
      const assignments = assign(expression, {
        status,
        updated_at: stamp,
        ...(isTerminalJobStatus(status) ? { completed_at: stamp } : {}),
        ...checked.data,
      });
      if (status === JobStatus.running)
        assignments.push(ifNotExists(expression, 'started_at', stamp));
      const condition = `${expression.name('status')} IN (${priors.map((prior) => expression.value(prior)).join(', ')})`;
      const result = await this.conditionalUpdate(jobId, assignments, condition, expression);
      if (result.written) return { outcome: 'applied', record: result.record };
      current = result.existing;
    }
    const decision = decideJobTransition(current, status, changes, this.now());
    // The condition admits exactly the statuses the rules apply from, so this never writes.
    if (decision.outcome === TransitionOutcome.applied) throw this.conflictError(jobId);
    return unwrittenResult(decision, current);
  }

  /**
   * Writes the step in the shape the record is known (or, before any read, last seen) to have:
   * no `steps` yet, a new step, or a known step conditional on the statuses it may come from.
   * A failed condition returns the record, which decides the next attempt.
   */
  async updateStep(
    jobId: string,
    stepName: string,
    progress: StepProgress,
  ): Promise<JobUpdateResult> {
    const checked = checkStepUpdate(stepName, progress);
    let current: JobRecord | undefined;
    for (let attempt = 0; attempt < this.maxConflicts; attempt += 1) {
      let known = this.stepNames.get(jobId);
      if (current !== undefined) {
        const decision = decideStepUpdate(current, stepName, checked, this.now());
        if (decision.outcome !== TransitionOutcome.applied)
          return unwrittenResult(decision, current);
        known = current.steps === undefined ? undefined : new Set(Object.keys(current.steps));
      }
      const write = this.stepWrite(stepName, checked, known);
      if (write === undefined) {
        current = await this.get(jobId);
        if (current === undefined) throw new JobNotFoundError(jobId);
        continue;
      }
      const result = await this.conditionalUpdate(jobId, ...write);
      if (result.written) return { outcome: 'applied', record: result.record };
      current = result.existing;
    }
    throw this.conflictError(jobId);
  }

  async requestCancel(jobId: string): Promise<JobRecord> {
    const expression = new UpdateExpressionBuilder();
    const cancel = expression.name('cancel_requested');
    const assignments = assign(expression, {
      cancel_requested: true,
      updated_at: this.now().toISOString(),
    });
    const terminal = TERMINAL_JOB_STATUSES.map((value) => expression.value(value)).join(', ');
    // Nothing is written for a job that has ended or was already asked to stop.
    const condition = `attribute_exists(job_id) AND NOT (${expression.name('status')} IN (${terminal})) AND (attribute_not_exists(${cancel}) OR ${cancel} = ${expression.value(false)})`;
    const result = await this.conditionalUpdate(jobId, assignments, condition, expression);
    return result.written ? result.record : result.existing;
  }

  /**
   * The first attempt assumes a pending job (one UpdateItem in the common case); otherwise
   * `decideJobClaim` decides from the record the failed condition returned, and a claim or
   * takeover is written on the condition that status, owner and heartbeat are still those.
   */
  async claim(jobId: string, request: JobClaimRequest): Promise<JobClaimResult> {
    checkJobClaimRequest(jobId, request);
    let current: JobRecord | undefined;
    for (let attempt = 0; attempt < this.maxConflicts; attempt += 1) {
      const expression = new UpdateExpressionBuilder();
      const stamp = this.now().toISOString();
      let outcome: typeof JobClaimOutcome.claimed | typeof JobClaimOutcome.takenOver =
        JobClaimOutcome.claimed;
      const conditions = [sameAs(expression, 'status', current?.status ?? JobStatus.pending)];
      if (current !== undefined) {
        const decision = decideJobClaim(current, request, this.now());
        if (
          decision.outcome !== JobClaimOutcome.claimed &&
          decision.outcome !== JobClaimOutcome.takenOver
        ) {
          return { outcome: decision.outcome, record: current };
        }
        outcome = decision.outcome;
        conditions.push(
          sameAs(expression, 'worker_id', current.worker_id),
          sameAs(expression, 'heartbeat_at', current.heartbeat_at),
        );
      }
      const cancel = expression.name('cancel_requested');
      conditions.push(
        `(attribute_not_exists(${cancel}) OR ${cancel} = ${expression.value(false)})`,
      );
      const assignments = assign(expression, {
        status: JobStatus.running,
        worker_id: request.workerId,
        heartbeat_at: stamp,
        updated_at: stamp,
      });
      assignments.push(ifNotExists(expression, 'started_at', stamp));
      const result = await this.conditionalUpdate(
        jobId,
        assignments,
        conditions.join(' AND '),
        expression,
      );
      if (result.written) {
        return outcome === JobClaimOutcome.takenOver
          ? { outcome, record: result.record, previousWorkerId: current?.worker_id }
          : { outcome, record: result.record };
      }
      current = result.existing;
    }
    throw this.conflictError(jobId);
  }

  /** `SET heartbeat_at` on the condition that the job is running under `workerId`. */
  async heartbeat(jobId: string, workerId: string): Promise<JobOwnershipResult> {
    return this.ownerUpdate(jobId, workerId, (expression) => {
      return `SET ${assign(expression, { heartbeat_at: this.now().toISOString() }).join(', ')}`;
    });
  }

  /** `REMOVE worker_id, heartbeat_at` on the condition that the job is running under `workerId`. */
  async release(jobId: string, workerId: string): Promise<JobOwnershipResult> {
    return this.ownerUpdate(jobId, workerId, (expression) => {
      return `REMOVE ${expression.name('worker_id')}, ${expression.name('heartbeat_at')}`;
    });
  }

  /** Destroys the client the store made (not one it was given); idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
    return Promise.resolve();
  }

  /**
   * A step update as one write: the whole `steps` map when the record has none, a new entry
   * for a step it lacks, or the reported fields of a step it has, conditional on the statuses
   * that step may come from (`undefined` when none may: the update can only be unchanged or
   * ignored). `known` holds the record's step names, `undefined` when it has no `steps`.
   */
  private stepWrite(
    stepName: string,
    progress: StepProgress,
    known: ReadonlySet<string> | undefined,
  ): [string[], string, UpdateExpressionBuilder] | undefined {
    const expression = new UpdateExpressionBuilder();
    const entry = definedFields(progress);
    const steps = expression.name('steps');
    const updatedAt = assign(expression, { updated_at: this.now().toISOString() });
    if (known === undefined) {
      const map = expression.value({ [stepName]: entry });
      const condition = `attribute_exists(job_id) AND attribute_not_exists(${steps})`;
      return [[`${steps} = ${map}`, ...updatedAt], condition, expression];
    }
    const step = `${steps}.${expression.name(stepName)}`;
    if (!known.has(stepName)) {
      const condition = `attribute_exists(${steps}) AND attribute_not_exists(${step})`;
      return [[`${step} = ${expression.value(entry)}`, ...updatedAt], condition, expression];
    }
    const priors = EXECUTION_STATUSES.filter(
      (prior) => transitionExecution(prior, progress.status).outcome === TransitionOutcome.applied,
    );
    if (priors.length === 0) return undefined;
    const fields = Object.entries(entry).map(
      ([field, value]) => `${step}.${expression.name(field)} = ${expression.value(value)}`,
    );
    const condition = `${step}.${expression.name('status')} IN (${priors.map((prior) => expression.value(prior)).join(', ')})`;
    return [[...fields, ...updatedAt], condition, expression];
  }

  /** One UpdateItem made only while the job runs under `workerId`. */
  private async ownerUpdate(
    jobId: string,
    workerId: string,
    update: (expression: UpdateExpressionBuilder) => string,
  ): Promise<JobOwnershipResult> {
    const expression = new UpdateExpressionBuilder();
    const condition = `${sameAs(expression, 'status', JobStatus.running)} AND ${sameAs(expression, 'worker_id', workerId)}`;
    const result = await this.conditionalUpdate(jobId, update(expression), condition, expression);
    return result.written
      ? { owned: true, record: result.record }
      : { owned: false, record: result.existing };
  }

  /**
   * One UpdateItem (an expression, or `SET` of assignments) under `condition`, which must
   * imply that the item exists (UpdateItem would otherwise create it).
   */
  private async conditionalUpdate(
    jobId: string,
    update: string | readonly string[],
    condition: string,
    expression: UpdateExpressionBuilder,
  ): Promise<ConditionalUpdate> {
    try {
      const output = await this.calls.send('dynamodb:UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { job_id: jobId },
            UpdateExpression: typeof update === 'string' ? update : `SET ${update.join(', ')}`,
            ConditionExpression: condition,
            ...expression.attributes(),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { written: true, record: this.parse('dynamodb:UpdateItem', output.Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionNotMet)) throw error;
      if (error.existing === undefined) throw new JobNotFoundError(jobId);
      return { written: false, existing: this.parse('dynamodb:UpdateItem', error.existing) };
    }
  }

  private conflictError(jobId: string): JobPlaneOperationError {
    return new JobPlaneOperationError(
      'dynamodb:UpdateItem',
      this.tableName,
      `job ${jobId} kept changing under ${this.maxConflicts} conditional updates`,
      { retryable: true },
    );
  }

  /** Validates a stored item, and remembers its step names for the next step update. */
  private parse(operation: string, item: Record<string, unknown> | undefined): JobRecord {
    const parsed = JobRecordSchema.safeParse(item);
    if (parsed.success) {
      this.rememberSteps(parsed.data);
      return parsed.data;
    }
    throw new JobPlaneOperationError(
      operation,
      this.tableName,
      `the stored job ${JSON.stringify(item?.['job_id'])} is not a valid job record: ${z.prettifyError(parsed.error)}`,
    );
  }

  private rememberSteps(record: JobRecord): void {
    if (record.steps === undefined) return;
    this.stepNames.delete(record.job_id);
    this.stepNames.set(record.job_id, new Set(Object.keys(record.steps)));
    if (this.stepNames.size > REMEMBERED_JOBS) {
      const oldest = this.stepNames.keys().next();
      if (oldest.done !== true) this.stepNames.delete(oldest.value);
    }
  }
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

function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** Orders job ids as DynamoDB orders the index's sort key (code units; ids are ASCII). */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
