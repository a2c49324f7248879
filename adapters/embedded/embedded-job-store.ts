import { assertNever } from '../../core/assert-never.js';
import type { StreamBatchHandler } from '../../core/contracts/job-stream.js';
import type { JobRecord, StepProgress } from '../../core/contracts/jobs.js';
import {
  applyJobStatusWrite,
  applyJobStepWrite,
  checkStepUpdate,
  decideJobTransition,
  decideStepUpdate,
  needsCancelRequest,
  newJobRecord,
  unwrittenResult,
} from '../../core/job-plane/job-record-changes.js';
import { JobNotFoundError, JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import {
  checkJobClaimRequest,
  decideJobClaim,
  ownsRunningJob,
} from '../../core/job-plane/job-ownership-changes.js';
import {
  JobClaimOutcome,
  type CreateJobResult,
  type JobChangeFeed,
  type JobChangeSignal,
  type JobClaimRequest,
  type JobClaimResult,
  type JobOwnershipResult,
  type JobStatusChanges,
  type JobStore,
  type JobUpdateResult,
  type NewJob,
} from '../../core/ports/job-store.js';
import type { JobStatus } from '../../core/statuses.js';
import { TransitionOutcome } from '../../core/transitions.js';
import { EmbeddedChangeFeed, type EmbeddedChangeFeedOptions } from './embedded-change-feed.js';

/** Options of {@link EmbeddedJobStore}; every field has a default. */
export interface EmbeddedJobStoreOptions {
  /** The change feed's batching, retention and redelivery. */
  readonly feed?: EmbeddedChangeFeedOptions;
  /** The clock that stamps records; injectable for tests. */
  readonly now?: () => Date;
}

/**
 * The job store of the embedded mode: the `pipeline-jobs` table in memory, with the same
 * semantics as `DynamoJobStore` (both take their decisions from
 * `core/job-plane/job-record-changes.ts`), and its change feed: every applied write publishes
 * one record shaped exactly like a DynamoDB stream record (INSERT on submission, MODIFY on
 * every change; never REMOVE, as records do not expire in memory), delivered to the same
 * reconciler handler that Lambda feeds in production.
 *
 * Each operation reads, decides and writes within one turn of the event loop, so concurrent
 * callers are serialised exactly as conditional writes serialise them on DynamoDB. Callers get
 * copies: mutating a returned record changes nothing stored. After `close()`, writes are refused.
 */
export class EmbeddedJobStore implements JobStore, JobChangeFeed, JobChangeSignal {
  private readonly records = new Map<string, JobRecord>();
  /** Who waits for each job's status to change ({@link EmbeddedJobStore.nextStatusChange}). */
  private readonly waiters = new Map<string, Set<StatusWaiter>>();
  private readonly feed: EmbeddedChangeFeed;
  private readonly now: () => Date;
  private readonly tableName: string;
  private closing: Promise<void> | undefined;

  constructor(options: EmbeddedJobStoreOptions = {}) {
    this.feed = new EmbeddedChangeFeed(options.feed);
    this.now = options.now ?? (() => new Date());
    this.tableName = options.feed?.tableName ?? 'pipeline-jobs';
  }

  create(job: NewJob): Promise<CreateJobResult> {
    return this.write('create', () => {
      const record = newJobRecord(job, this.now());
      const existing = this.records.get(job.job_id);
      if (existing !== undefined) return { created: false, existing: structuredClone(existing) };
      this.commit(undefined, record);
      return { created: true, record: structuredClone(record) };
    });
  }

  get(jobId: string): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    return Promise.resolve(record === undefined ? undefined : structuredClone(record));
  }

  listByRun(runId: string): Promise<readonly JobRecord[]> {
    const records = [...this.records.values()]
      .filter((record) => record.run_id === runId)
      .sort((left, right) => (left.job_id < right.job_id ? -1 : 1))
      .map((record) => structuredClone(record));
    return Promise.resolve(records);
  }

  transition(
    jobId: string,
    status: JobStatus,
    changes: JobStatusChanges = {},
  ): Promise<JobUpdateResult> {
    return this.write('transition', () => {
      const current = this.require(jobId);
      const decision = decideJobTransition(current, status, changes, this.now());
      if (decision.outcome !== TransitionOutcome.applied)
        return unwrittenResult(decision, structuredClone(current));
      return applied(this.commit(current, applyJobStatusWrite(current, decision.changes)));
    });
  }

  updateStep(jobId: string, stepName: string, progress: StepProgress): Promise<JobUpdateResult> {
    return this.write('updateStep', () => {
      const checked = checkStepUpdate(stepName, progress);
      const current = this.require(jobId);
      const decision = decideStepUpdate(current, stepName, checked, this.now());
      if (decision.outcome !== TransitionOutcome.applied)
        return unwrittenResult(decision, structuredClone(current));
      return applied(this.commit(current, applyJobStepWrite(current, stepName, decision.changes)));
    });
  }

  requestCancel(jobId: string): Promise<JobRecord> {
    return this.write('requestCancel', () => {
      const current = this.require(jobId);
      if (!needsCancelRequest(current)) return structuredClone(current);
      const next = { ...current, cancel_requested: true, updated_at: this.now().toISOString() };
      return structuredClone(this.commit(current, next));
    });
  }

  claim(jobId: string, request: JobClaimRequest): Promise<JobClaimResult> {
    return this.write('claim', () => {
      checkJobClaimRequest(jobId, request);
      const current = this.require(jobId);
      const decision = decideJobClaim(current, request, this.now());
      switch (decision.outcome) {
        case JobClaimOutcome.claimed:
          return { outcome: decision.outcome, record: this.commitCopy(current, decision.write) };
        case JobClaimOutcome.takenOver:
          return {
            outcome: decision.outcome,
            record: this.commitCopy(current, decision.write),
            previousWorkerId: current.worker_id,
          };
        case JobClaimOutcome.held:
        case JobClaimOutcome.ended:
        case JobClaimOutcome.cancelRequested:
          return { outcome: decision.outcome, record: structuredClone(current) };
        default:
          return assertNever(decision, 'job claim decision');
      }
    });
  }

  heartbeat(jobId: string, workerId: string): Promise<JobOwnershipResult> {
    return this.write('heartbeat', () => {
      const current = this.require(jobId);
      if (!ownsRunningJob(current, workerId)) {
        return { owned: false, record: structuredClone(current) };
      }
      const beat = { heartbeat_at: this.now().toISOString() };
      return { owned: true, record: this.commitCopy(current, beat) };
    });
  }

  release(jobId: string, workerId: string): Promise<JobOwnershipResult> {
    return this.write('release', () => {
      const current = this.require(jobId);
      if (!ownsRunningJob(current, workerId)) {
        return { owned: false, record: structuredClone(current) };
      }
      const { worker_id: _owner, heartbeat_at: _heartbeat, ...unowned } = current;
      return { owned: true, record: structuredClone(this.commit(current, unowned)) };
    });
  }

  /**
   * Delivers every change to `handler` in commit order, starting at the oldest retained
   * change; the returned function stops delivery after draining what was already written.
   */
  subscribe(handler: StreamBatchHandler): () => Promise<void> {
    return this.feed.subscribe(handler);
  }

  /**
   * Resolves once the job's status is no longer `seenStatus` (at once when it already is not,
   * or there is no such job), or when `signal` aborts; writes that keep the status wake no one.
   */
  nextStatusChange(jobId: string, signal: AbortSignal, seenStatus: JobStatus): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.closing !== undefined) return resolve();
      if (this.records.get(jobId)?.status !== seenStatus) return resolve();
      const waiting = this.waiters.get(jobId) ?? new Set<StatusWaiter>();
      const stop = (): void => {
        waiting.delete(waiter);
        if (waiting.size === 0 && this.waiters.get(jobId) === waiting) this.waiters.delete(jobId);
        resolve();
      };
      const waiter: StatusWaiter = {
        seenStatus,
        wake: () => {
          signal.removeEventListener('abort', stop);
          resolve();
        },
      };
      waiting.add(waiter);
      this.waiters.set(jobId, waiting);
      signal.addEventListener('abort', stop, { once: true });
    });
  }

  /** Refuses further writes, wakes every waiter, then drains and stops every subscription; idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const waiting of this.waiters.values()) waiting.forEach((waiter) => waiter.wake());
      this.waiters.clear();
    }
    this.closing ??= this.feed.close();
    return this.closing;
  }

  /** Runs one write synchronously, as one atomic step, and settles the promise with it. */
  private write<T>(operation: string, body: () => T): Promise<T> {
    // The executor runs `body` at once; whatever it throws rejects the promise.
    return new Promise<T>((resolve) => {
      if (this.closing !== undefined) {
        throw new JobPlaneOperationError(
          `embedded:${operation}`,
          this.tableName,
          'the job store is closed',
        );
      }
      resolve(body());
    });
  }

  private require(jobId: string): JobRecord {
    const record = this.records.get(jobId);
    if (record === undefined) throw new JobNotFoundError(jobId);
    return record;
  }

  /** Commits `changes` over `current` and returns a copy of the stored record. */
  private commitCopy(current: JobRecord, changes: Partial<JobRecord>): JobRecord {
    return structuredClone(this.commit(current, { ...current, ...changes }));
  }

  /** Stores `next`, publishes its change record and wakes its waiters; returns what was stored. */
  private commit(previous: JobRecord | undefined, next: JobRecord): JobRecord {
    this.records.set(next.job_id, next);
    if (next.status !== previous?.status) this.wakeWaiters(next);
    this.feed.publish(
      previous === undefined
        ? { eventName: 'INSERT', jobId: next.job_id, newRecord: next }
        : { eventName: 'MODIFY', jobId: next.job_id, oldRecord: previous, newRecord: next },
    );
    return next;
  }

  /** Wakes the job's waiters that saw another status than the one `record` stores. */
  private wakeWaiters(record: JobRecord): void {
    const waiting = this.waiters.get(record.job_id);
    if (waiting === undefined) return;
    for (const waiter of waiting) {
      if (waiter.seenStatus === record.status) continue;
      waiting.delete(waiter);
      waiter.wake();
    }
    if (waiting.size === 0) this.waiters.delete(record.job_id);
  }
}

/** A caller of {@link EmbeddedJobStore.nextStatusChange}, and the status it last saw. */
interface StatusWaiter {
  readonly seenStatus: JobStatus;
  readonly wake: () => void;
}

function applied(record: JobRecord): JobUpdateResult {
  return { outcome: 'applied', record: structuredClone(record) };
}
