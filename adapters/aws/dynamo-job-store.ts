import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { JobRecordSchema, type JobRecord, type StepProgress } from '../../core/contracts/jobs.js';
import {
  applyJobStepWrite,
  checkStepUpdate,
  decideJobTransition,
  decideStepUpdate,
  newJobRecord,
  unwrittenResult,
  type JobWriteDecision,
} from '../../core/job-plane/job-record-changes.js';
import { JobNotFoundError, JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type {
  CreateJobResult,
  JobStatusChanges,
  JobStore,
  JobUpdateResult,
  NewJob,
} from '../../core/ports/job-store.js';
import type { RetryOptions } from '../../core/retry.js';
import { JobStatus } from '../../core/statuses.js';
import { TransitionOutcome } from '../../core/transitions.js';
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

/**
 * The job store on DynamoDB (DESIGN.md section 5): one item per job keyed by `job_id`, the
 * `run_id` index for a run's jobs, and every change a conditional write, so the table's stream
 * carries exactly the changes that were applied.
 *
 * Submission is `attribute_not_exists(job_id)`: a second submission gets the stored record
 * back from the failed condition (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). Status and
 * step changes read the record (consistently), decide under the core transition rules, and
 * write on the condition that the status they decided from is still there (optimistic
 * concurrency); a writer that loses the race decides again from the record the failed
 * condition returns. Statuses only move forward, so such conflicts are few and bounded.
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

  async transition(
    jobId: string,
    status: JobStatus,
    changes: JobStatusChanges = {},
  ): Promise<JobUpdateResult> {
    return this.updateConditionally(
      jobId,
      (current) => decideJobTransition(current, status, changes, this.now()),
      (current, write, expression) => ({
        update: `SET ${Object.entries(write)
          .map(([attribute, value]) => `${expression.name(attribute)} = ${expression.value(value)}`)
          .join(', ')}`,
        condition: `${expression.name('status')} = ${expression.value(current.status)}`,
      }),
    );
  }

  async updateStep(
    jobId: string,
    stepName: string,
    progress: StepProgress,
  ): Promise<JobUpdateResult> {
    const checked = checkStepUpdate(stepName, progress);
    return this.updateConditionally(
      jobId,
      (current) => decideStepUpdate(current, stepName, checked, this.now()),
      (current, write, expression) => {
        const steps = expression.name('steps');
        const updatedAt = `${expression.name('updated_at')} = ${expression.value(write.updated_at)}`;
        if (current.steps === undefined) {
          // The document path steps.<name> cannot be set while `steps` does not exist.
          const map = applyJobStepWrite(current, stepName, write).steps;
          return {
            update: `SET ${steps} = ${expression.value(map)}, ${updatedAt}`,
            condition: `attribute_exists(job_id) AND attribute_not_exists(${steps})`,
          };
        }
        const previous = current.steps[stepName];
        const step = `${steps}.${expression.name(stepName)}`;
        return {
          update: `SET ${step} = ${expression.value(write.step)}, ${updatedAt}`,
          condition:
            previous === undefined
              ? `attribute_exists(${steps}) AND attribute_not_exists(${step})`
              : `${step}.${expression.name('status')} = ${expression.value(previous.status)}`,
        };
      },
    );
  }

  async requestCancel(jobId: string): Promise<JobRecord> {
    const expression = new UpdateExpressionBuilder();
    const status = expression.name('status');
    const cancel = expression.name('cancel_requested');
    const terminal = TERMINAL_JOB_STATUSES.map((value) => expression.value(value)).join(', ');
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: { job_id: jobId },
      UpdateExpression: `SET ${cancel} = ${expression.value(true)}, ${expression.name('updated_at')} = ${expression.value(this.now().toISOString())}`,
      // Nothing is written for a job that has ended or was already asked to stop.
      ConditionExpression: `attribute_exists(job_id) AND NOT (${status} IN (${terminal})) AND (attribute_not_exists(${cancel}) OR ${cancel} = ${expression.value(false)})`,
      ...expression.attributes(),
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
    try {
      const output = await this.calls.send('dynamodb:UpdateItem', () =>
        this.documents.send(new UpdateCommand(input)),
      );
      return this.parse('dynamodb:UpdateItem', output.Attributes);
    } catch (error) {
      if (!(error instanceof ConditionNotMet)) throw error;
      if (error.existing === undefined) throw new JobNotFoundError(jobId);
      return this.parse('dynamodb:UpdateItem', error.existing);
    }
  }

  /** Destroys the client the store made (not one it was given); idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
    return Promise.resolve();
  }

  /**
   * Decides from the current record and writes on a condition that the record is still what the
   * decision saw; on a lost race, decides again from the record the failed condition returned.
   */
  private async updateConditionally<W>(
    jobId: string,
    decide: (current: JobRecord) => JobWriteDecision<W>,
    writeFor: (
      current: JobRecord,
      write: W,
      expression: UpdateExpressionBuilder,
    ) => { update: string; condition: string },
  ): Promise<JobUpdateResult> {
    let current = await this.get(jobId);
    for (let conflicts = 0; ; conflicts += 1) {
      if (current === undefined) throw new JobNotFoundError(jobId);
      const decision = decide(current);
      if (decision.outcome !== TransitionOutcome.applied) return unwrittenResult(decision, current);
      const expression = new UpdateExpressionBuilder();
      const { update, condition } = writeFor(current, decision.changes, expression);
      try {
        const output = await this.calls.send('dynamodb:UpdateItem', () =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { job_id: jobId },
              UpdateExpression: update,
              ConditionExpression: condition,
              ...expression.attributes(),
              ReturnValues: 'ALL_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return { outcome: 'applied', record: this.parse('dynamodb:UpdateItem', output.Attributes) };
      } catch (error) {
        if (!(error instanceof ConditionNotMet)) throw error;
        if (conflicts + 1 >= this.maxConflicts) {
          throw new JobPlaneOperationError(
            'dynamodb:UpdateItem',
            this.tableName,
            `job ${jobId} kept changing under ${this.maxConflicts} conditional updates`,
            { cause: error, retryable: true },
          );
        }
        current =
          error.existing === undefined
            ? undefined
            : this.parse('dynamodb:UpdateItem', error.existing);
      }
    }
  }

  private parse(operation: string, item: Record<string, unknown> | undefined): JobRecord {
    const parsed = JobRecordSchema.safeParse(item);
    if (parsed.success) return parsed.data;
    throw new JobPlaneOperationError(
      operation,
      this.tableName,
      `the stored job ${JSON.stringify(item?.['job_id'])} is not a valid job record: ${z.prettifyError(parsed.error)}`,
    );
  }
}

/** Orders job ids as DynamoDB orders the index's sort key (code units; ids are ASCII). */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
