import { z } from 'zod';
import { JobMessageSchema, type JobMessage, type JobRecord } from '../core/contracts/jobs.js';
import { errorMessage } from '../core/errors.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import type { JobChangeSignal, JobStore } from '../core/ports/job-store.js';
import { backoffDelay, isTransientError } from '../core/retry.js';
import { isTerminalJobStatus, JobStatus } from '../core/statuses.js';
import {
  DispatchAbortedError,
  DispatchDeadlineError,
  DispatchedJobMissingError,
  DispatcherError,
  DispatchInputError,
} from './dispatcher-errors.js';
import { silentDispatcherLogger, type DispatcherLogger } from './dispatcher-logger.js';
import { JobStatusWait } from './job-status-wait.js';

/** The slice of the job store a dispatch uses: submit, poll, and ask for cancellation. */
export type DispatcherJobStore = Pick<JobStore, 'create' | 'get' | 'requestCancel'>;

/** The slice of the job type's queue a dispatch uses. */
export type DispatcherQueue = Pick<JobQueue, 'name' | 'send'>;

/** How often the job record is read: from `initialMs`, doubling up to `maxMs`. */
export interface PollInterval {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** 250 ms doubling to 10 s: quick jobs are seen quickly, long ones cost a read every 10 s. */
export const DEFAULT_POLL_INTERVAL: PollInterval = { initialMs: 250, maxMs: 10_000 };

/** How long a cancel request may take before the dispatcher gives up on it and exits. */
export const DEFAULT_CANCEL_TIMEOUT_MS = 5_000;

/** Options of {@link dispatchJob}. */
export interface DispatchJobOptions {
  readonly jobs: DispatcherJobStore;
  /** The queue of the message's job type (`queueForJobType`). */
  readonly queue: DispatcherQueue;
  readonly message: JobMessage;
  /**
   * When to stop waiting: the job's cancellation is requested and the dispatch fails with
   * {@link DispatchDeadlineError}. Set it a little after the message's own `deadline`, so the
   * worker's record of a job it stopped at its deadline is what the dispatcher reports.
   */
  readonly deadline: Date;
  /** Default {@link DEFAULT_POLL_INTERVAL}. */
  readonly pollInterval?: PollInterval;
  /** Wakes the wait when the job's status changes; without it the record is only polled. */
  readonly changes?: JobChangeSignal | undefined;
  /** Aborting it (SIGTERM) requests the job's cancellation and fails with {@link DispatchAbortedError}. */
  readonly signal?: AbortSignal;
  readonly logger?: DispatcherLogger;
  /** Default {@link DEFAULT_CANCEL_TIMEOUT_MS}. */
  readonly cancelTimeoutMs?: number;
  /** The clock; injectable for tests. */
  readonly now?: () => Date;
}

/**
 * Submits a job and waits for it to end; returns its terminal record, whatever its status
 * (`assertJobsCompleted` turns a failed one into an error).
 *
 * Submission is idempotent, so Argo may retry a dispatcher at any point: the record is created
 * with a conditional write on the deterministic job id, and the message is sent with the job
 * id as deduplication key. When the record already exists, an earlier attempt submitted it:
 * it is not created again, and while it is still `pending` its message is sent again (the
 * queue drops a duplicate within five minutes, a worker deletes a message whose job has
 * ended), so an attempt that died between creating the record and sending never strands the
 * job. The record is then read with backoff until it is terminal; past `deadline`, or when
 * `signal` aborts, the job's cancellation is requested and the dispatch fails.
 */
export async function dispatchJob(options: DispatchJobOptions): Promise<JobRecord> {
  const message = checkedMessage(options.message);
  const dispatch = new Dispatch(options, message);
  return dispatch.run();
}

function checkedMessage(message: JobMessage): JobMessage {
  const parsed = JobMessageSchema.safeParse(message);
  if (!parsed.success) {
    throw new DispatchInputError(`invalid job message: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** One dispatch: its options compiled, its job's fields for every log line. */
class Dispatch {
  readonly #options: DispatchJobOptions;
  readonly #message: JobMessage;
  readonly #logger: DispatcherLogger;
  readonly #interval: PollInterval;
  readonly #now: () => Date;
  readonly #fields: Record<string, unknown>;
  readonly #wait: JobStatusWait;

  constructor(options: DispatchJobOptions, message: JobMessage) {
    this.#options = options;
    this.#message = message;
    this.#logger = options.logger ?? silentDispatcherLogger;
    this.#interval = options.pollInterval ?? DEFAULT_POLL_INTERVAL;
    this.#now = options.now ?? (() => new Date());
    this.#fields = { jobId: message.job_id, runId: message.run_id, type: message.type };
    this.#wait = new JobStatusWait(message.job_id, options.changes);
  }

  async run(): Promise<JobRecord> {
    const { signal } = this.#options;
    if (signal?.aborted === true) {
      const reason = errorMessage(signal.reason ?? 'aborted');
      throw new DispatcherError(
        `dispatch of job ${this.#message.job_id} stopped before submission (${reason})`,
      );
    }
    const submitted = await this.#submit();
    if (isTerminalJobStatus(submitted.status)) return submitted;
    return this.#waitForEnd(submitted);
  }

  async #submit(): Promise<JobRecord> {
    const { jobs } = this.#options;
    const { job_id, run_id, type } = this.#message;
    const result = await jobs.create({ job_id, run_id, type });
    if (result.created) {
      this.#logger.info('job created', this.#fields);
      await this.#send();
      return result.record;
    }
    const existing = result.existing;
    const fields = { ...this.#fields, status: existing.status, createdAt: existing.created_at };
    if (existing.status !== JobStatus.pending) {
      this.#logger.info('job was submitted by an earlier attempt; waiting for it', fields);
      return existing;
    }
    this.#logger.info(
      'job was created by an earlier attempt and is still pending; sending again',
      fields,
    );
    await this.#send();
    return existing;
  }

  async #send(): Promise<void> {
    const { queue } = this.#options;
    const { messageId } = await queue.send(JSON.stringify(this.#message), {
      deduplicationKey: this.#message.job_id,
    });
    this.#logger.info('job message sent', { ...this.#fields, queue: queue.name, messageId });
  }

  async #waitForEnd(submitted: JobRecord): Promise<JobRecord> {
    const { deadline } = this.#options;
    let last = submitted;
    for (let attempt = 1; ; attempt++) {
      const remainingMs = deadline.getTime() - this.#now().getTime();
      if (remainingMs <= 0) {
        const cancelRequested = await this.#requestCancel('deadline passed');
        throw new DispatchDeadlineError(last.job_id, deadline, last.status, cancelRequested);
      }
      const delayMs = backoffDelay(attempt, {
        baseDelayMs: this.#interval.initialMs,
        maxDelayMs: this.#interval.maxMs,
        jitterMs: this.#interval.initialMs / 4,
      });
      await this.#orAbort(
        this.#wait.pause(last, Math.min(delayMs, remainingMs), this.#options.signal),
      );
      const current = await this.#orAbort(this.#read(last));
      if (isTerminalJobStatus(current.status)) {
        this.#logger.info('job ended', { ...this.#fields, status: current.status });
        return current;
      }
      if (current.status !== last.status) {
        this.#logger.info('job status changed', {
          ...this.#fields,
          status: current.status,
          workerId: current.worker_id,
        });
        attempt = 0;
      }
      last = current;
    }
  }

  /** Reads the record; a transient failure is logged and the previous record stands. */
  async #read(previous: JobRecord): Promise<JobRecord> {
    try {
      const record = await this.#options.jobs.get(previous.job_id);
      if (record === undefined) throw new DispatchedJobMissingError(previous.job_id);
      return record;
    } catch (error) {
      if (!isTransientError(error)) throw error;
      this.#logger.warn('could not read the job record; trying again', {
        ...this.#fields,
        error: errorMessage(error),
      });
      return previous;
    }
  }

  /**
   * Settles with `work`, unless the signal aborts first: then the job's cancellation is
   * requested and the dispatch fails with {@link DispatchAbortedError}.
   */
  async #orAbort<T>(work: Promise<T>): Promise<T> {
    const { signal } = this.#options;
    if (signal === undefined) return work;
    let onAbort = (): void => undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    let outcome: { value: T } | 'aborted';
    try {
      outcome = await Promise.race([work.then((value) => ({ value })), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (outcome !== 'aborted') return outcome.value;
    work.catch(() => undefined);
    const reason = errorMessage(signal.reason ?? 'aborted');
    const cancelRequested = await this.#requestCancel(reason);
    throw new DispatchAbortedError(this.#message.job_id, reason, cancelRequested);
  }

  /** Asks the job's worker to stop it, within the cancel timeout; whether the request was made. */
  async #requestCancel(why: string): Promise<boolean> {
    const { jobs, cancelTimeoutMs = DEFAULT_CANCEL_TIMEOUT_MS } = this.#options;
    const fields = { ...this.#fields, why };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), cancelTimeoutMs);
    });
    try {
      const outcome = await Promise.race([jobs.requestCancel(this.#message.job_id), timedOut]);
      if (outcome === 'timed-out') {
        this.#logger.error('cancel request timed out', { ...fields, timeoutMs: cancelTimeoutMs });
        return false;
      }
      this.#logger.warn('job cancellation requested', { ...fields, status: outcome.status });
      return true;
    } catch (error) {
      this.#logger.error('could not request the job cancellation', {
        ...fields,
        error: errorMessage(error),
      });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
