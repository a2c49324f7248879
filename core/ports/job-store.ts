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
  /**
   * Claims a job for the worker that received its message, under `decideJobClaim`
   * (`core/job-plane/job-ownership-changes.ts`, the one rule of every store): a pending
   * job becomes running under the worker; a running job whose owner's heartbeat is older than
   * `heartbeatTimeoutMs` is taken over (a running → running change of owner, conditional on the
   * old owner and heartbeat, so two takers never both win); a running job with a live owner is
   * `held` (the message must be left alone), an ended one `ended`, and one whose cancellation
   * was asked for `cancel-requested`. Throws `JobNotFoundError` for an unknown job.
   */
  claim(jobId: string, request: JobClaimRequest): Promise<JobClaimResult>;
  /**
   * Records that `workerId` still runs the job (`heartbeat_at`, not `updated_at`), only while
   * the record names it as the running owner; `owned: false` (nothing written) once the job
   * ended or another worker took it over. Throws `JobNotFoundError` for an unknown job.
   */
  heartbeat(jobId: string, workerId: string): Promise<JobOwnershipResult>;
  /**
   * Gives the job up, for a worker handing its message back unfinished: while the record names
   * `workerId` as the running owner, its `worker_id` and `heartbeat_at` are removed (the status
   * stays running), so that the next delivery takes the job over at once instead of waiting
   * for the heartbeat to go stale. `owned: false` (nothing written) when it was not the owner.
   */
  release(jobId: string, workerId: string): Promise<JobOwnershipResult>;
}

/**
 * Wakes a waiter at a job's next change, where the store can tell without being read (an
 * in-process store). Stores that cannot do not offer it, and their readers poll; readers that
 * have it still poll, more slowly, so a change they miss is seen all the same.
 */
export interface JobChangeSignal {
  /**
   * Resolves once the job's status is no longer `seenStatus` (at once when it already is not,
   * or the job is unknown), or when `signal` aborts; at once, whatever the status, once the
   * store is closing (a caller that waits in a loop must not take that for a change: see
   * `JobStatusWait`). Writes that keep the status (step
   * progress, heartbeats, a cancel request) do not wake the caller: a dispatcher waits for
   * the job's end, and a hundred of them waking at every step's progress cost the process
   * running them more than the jobs' own bookkeeping.
   */
  nextStatusChange(jobId: string, signal: AbortSignal, seenStatus: JobStatus): Promise<void>;
}

/**
 * The change feed of the job table: batches of stream-shaped records in commit order per
 * job, delivered to one handler; a batch's failed records are delivered again.
 */
export interface JobChangeFeed {
  /** Starts delivering changes to `handler`; the returned function stops delivery. */
  subscribe(handler: StreamBatchHandler): () => Promise<void>;
}

/** What a worker that received a job's message asks {@link JobStore.claim} for. */
export interface JobClaimRequest {
  /** Recorded as the job's `worker_id` (and `heartbeat_at` stamped with the claim). */
  readonly workerId: string;
  /**
   * How long an owner may go without a heartbeat before its job may be taken over: the queue's
   * visibility timeout, which a live owner's heartbeats (every third of it) never let lapse.
   */
  readonly heartbeatTimeoutMs: number;
}

/** What became of a claim. */
export const JobClaimOutcome = {
  /** A pending job is now running under the claiming worker: run it. */
  claimed: 'claimed',
  /** A running job whose owner stopped heartbeating is now the claiming worker's: run it. */
  takenOver: 'taken-over',
  /** A running job whose owner is alive: a duplicate delivery, to be left alone. */
  held: 'held',
  /** The job has ended: its message is done with. */
  ended: 'ended',
  /** Cancellation was asked for before the claiming worker got the job: record it cancelled. */
  cancelRequested: 'cancel-requested',
} as const;
/** One of {@link JobClaimOutcome}. */
export type JobClaimOutcome = (typeof JobClaimOutcome)[keyof typeof JobClaimOutcome];

/** The outcome of {@link JobStore.claim}, with the record after it. */
export type JobClaimResult =
  | { readonly outcome: typeof JobClaimOutcome.claimed; readonly record: JobRecord }
  | {
      readonly outcome: typeof JobClaimOutcome.takenOver;
      readonly record: JobRecord;
      /** The owner it was taken from (absent when the record named none). */
      readonly previousWorkerId: string | undefined;
    }
  | {
      readonly outcome:
        | typeof JobClaimOutcome.held
        | typeof JobClaimOutcome.ended
        | typeof JobClaimOutcome.cancelRequested;
      readonly record: JobRecord;
    };

/**
 * The outcome of {@link JobStore.heartbeat} and {@link JobStore.release}: whether the record
 * named the worker as the running owner (and so was written), with the record after it.
 */
export interface JobOwnershipResult {
  readonly owned: boolean;
  readonly record: JobRecord;
}
