import type { JobRecord, StepProgress } from '../contracts/jobs.js';
import type { StreamBatchHandler } from '../contracts/job-stream.js';
import type { JobStatus } from '../statuses.js';
import type { IgnoredReason } from '../transitions.js';

/** A job to record; the store stamps `created_at`, `updated_at` and `ttl`. */
export interface NewJob {
  readonly job_id: string;
  readonly run_id: string;
  readonly type: JobRecord['type'];
}

/** The outcome of an idempotent submission. */
export type CreateJobResult =
  | { readonly created: true; readonly record: JobRecord }
  | { readonly created: false; readonly existing: JobRecord };

/** Fields a status change may set along with the status. */
export interface JobStatusChanges {
  readonly worker_id?: string;
  readonly result_location?: string;
  readonly error?: string;
}

/** The outcome of a conditional status or step update; `record` is the record after it. */
export type JobUpdateResult =
  | { readonly outcome: 'applied'; readonly record: JobRecord }
  | { readonly outcome: 'unchanged'; readonly record: JobRecord }
  | { readonly outcome: 'ignored'; readonly reason: IgnoredReason; readonly record: JobRecord };

/**
 * Where jobs' statuses live (the `pipeline-jobs` table, DESIGN.md section 5). Every status
 * change goes through the core transition rules as a conditional write, so concurrent or late
 * writers can never move a job backwards or out of a terminal status.
 */
export interface JobStore {
  /** Records a job only if its id is new: a second submission returns the existing record. */
  create(job: NewJob): Promise<CreateJobResult>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Every job of a run, by job id. */
  listByRun(runId: string): Promise<readonly JobRecord[]>;
  /**
   * Moves a job to `status` if the transition rules allow it from its current status,
   * stamping `started_at` on running and `completed_at` on a terminal status. Throws
   * `JobNotFoundError` for an unknown job.
   */
  transition(
    jobId: string,
    status: JobStatus,
    changes?: JobStatusChanges,
  ): Promise<JobUpdateResult>;
  /** Records one step's progress, under the execution transition rules for that step. */
  updateStep(jobId: string, stepName: string, progress: StepProgress): Promise<JobUpdateResult>;
  /** Asks the worker running the job to stop it; a terminal job is left as it is. */
  requestCancel(jobId: string): Promise<JobRecord>;
}

/**
 * The change feed of the job table: batches of stream-shaped records in commit order per
 * job, delivered to one handler; a batch's failed records are delivered again.
 */
export interface JobChangeFeed {
  /** Starts delivering changes to `handler`; the returned function stops delivery. */
  subscribe(handler: StreamBatchHandler): () => Promise<void>;
}
