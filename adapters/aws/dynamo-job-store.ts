import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import {
  JobNotFoundError,
  type JobPlaneOperationError,
} from '../../core/job-plane/job-plane-errors.js';
import {
  checkJobClaimRequest,
  decideJobClaim,
} from '../../core/job-plane/job-ownership-changes.js';
import {
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
import type { JobStatus } from '../../core/statuses.js';
import { TransitionOutcome } from '../../core/transitions.js';
import { sdkClientConfig, type AwsClientConfig } from './aws-client-config.js';
import { DynamoJobTable } from './dynamo-job-table.js';
import {
  cancelRequestWrite,
  claimWrite,
  heartbeatWrite,
  releaseWrite,
  stepWrite,
  transitionWrite,
  type ClaimedFrom,
  type DynamoWrite,
} from './dynamo-job-writes.js';

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

/** How many jobs' step names the store remembers to shape its first step write (a hint). */
const REMEMBERED_JOBS = 1000;

/** The fields a status change may set, as the record schema reads them back. */
const StatusChangesSchema = JobRecordSchema.pick({
  worker_id: true,
  result_location: true,
  error: true,
});

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
 * The calls and the item mapping live in `DynamoJobTable`, the update and condition
 * expressions in `dynamo-job-writes.ts`. Every SDK error becomes a `JobPlaneOperationError`
 * naming the operation and the table; throttling and 5xx are retried first, credential and
 * missing-table errors never.
 */
export class DynamoJobStore implements JobStore {
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly table: DynamoJobTable;
  private readonly maxConflicts: number;
  private readonly now: () => Date;
  /** Step names last seen per job: only shapes the first attempt of a step update. */
  private readonly stepNames = new Map<string, ReadonlySet<string>>();
  private closed = false;

  constructor(options: DynamoJobStoreOptions) {
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new DynamoDBClient(sdkClientConfig(options.clientConfig));
    this.table = new DynamoJobTable({
      tableName: options.tableName,
      client: this.client,
      retry: { ...DEFAULT_CALL_RETRY, ...options.retry },
      onRecord: (record) => this.rememberSteps(record),
    });
    this.maxConflicts = options.maxConflicts ?? 10;
    this.now = options.now ?? (() => new Date());
  }

  async create(job: NewJob): Promise<CreateJobResult> {
    const result = await this.table.putNew(newJobRecord(job, this.now()));
    return result.written
      ? { created: true, record: result.record }
      : { created: false, existing: result.existing };
  }

  get(jobId: string): Promise<JobRecord | undefined> {
    return this.table.get(jobId);
  }

  /** Reads the `run_id` index page by page; on AWS the index is eventually consistent. */
  async listByRun(runId: string): Promise<readonly JobRecord[]> {
    const records = await this.table.queryByRun(runId);
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
    const write = transitionWrite(status, checked.data, this.now().toISOString());
    let current: JobRecord | undefined;
    if (write === undefined) {
      current = await this.get(jobId);
      if (current === undefined) throw new JobNotFoundError(jobId);
    } else {
      const result = await this.table.update(jobId, write);
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
      const write = stepWrite(stepName, checked, known, this.now().toISOString());
      if (write === undefined) {
        current = await this.get(jobId);
        if (current === undefined) throw new JobNotFoundError(jobId);
        continue;
      }
      const result = await this.table.update(jobId, write);
      if (result.written) return { outcome: 'applied', record: result.record };
      current = result.existing;
    }
    throw this.conflictError(jobId);
  }

  async requestCancel(jobId: string): Promise<JobRecord> {
    const result = await this.table.update(jobId, cancelRequestWrite(this.now().toISOString()));
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
      const stamp = this.now().toISOString();
      let outcome: typeof JobClaimOutcome.claimed | typeof JobClaimOutcome.takenOver =
        JobClaimOutcome.claimed;
      let from: ClaimedFrom | undefined;
      if (current !== undefined) {
        const decision = decideJobClaim(current, request, this.now());
        if (
          decision.outcome !== JobClaimOutcome.claimed &&
          decision.outcome !== JobClaimOutcome.takenOver
        ) {
          return { outcome: decision.outcome, record: current };
        }
        outcome = decision.outcome;
        from = current;
      }
      const result = await this.table.update(jobId, claimWrite(request.workerId, stamp, from));
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
    return this.ownerUpdate(jobId, heartbeatWrite(workerId, this.now().toISOString()));
  }

  /** `REMOVE worker_id, heartbeat_at` on the condition that the job is running under `workerId`. */
  async release(jobId: string, workerId: string): Promise<JobOwnershipResult> {
    return this.ownerUpdate(jobId, releaseWrite(workerId));
  }

  /** Destroys the client the store made (not one it was given); idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
    return Promise.resolve();
  }

  /** One of the owner's writes: written only while the job runs under that worker. */
  private async ownerUpdate(jobId: string, write: DynamoWrite): Promise<JobOwnershipResult> {
    const result = await this.table.update(jobId, write);
    return result.written
      ? { owned: true, record: result.record }
      : { owned: false, record: result.existing };
  }

  private conflictError(jobId: string): JobPlaneOperationError {
    return this.table.operationError(
      'dynamodb:UpdateItem',
      `job ${jobId} kept changing under ${this.maxConflicts} conditional updates`,
    );
  }

  /** Remembers a record's step names for the next step update of its job. */
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

/** Orders job ids as DynamoDB orders the index's sort key (code units; ids are ASCII). */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
