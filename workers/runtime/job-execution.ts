import { z } from 'zod';
import { assertNever } from '../../core/assert-never.js';
import { JobMessageSchema, type JobMessage } from '../../core/contracts/jobs.js';
import { errorMessage } from '../../core/errors.js';
import { JobNotFoundError } from '../../core/job-plane/job-plane-errors.js';
import type { ReceivedMessage } from '../../core/ports/job-queue.js';
import { JobClaimOutcome, type JobClaimResult } from '../../core/ports/job-store.js';
import { isTerminalJobStatus, JobStatus } from '../../core/statuses.js';
import { retry } from '../../core/retry.js';
import { startCancelWatcher } from './cancel-watcher.js';
import { FINISH_RETRY, JobDelivery } from './job-delivery.js';
import { startJobHeartbeat } from './job-heartbeat.js';
import type { JobContext, JobOutcome } from './job-handler.js';
import { DEADLINE_EXCEEDED, decideTerminalRecord, type TerminalRecord } from './job-outcome.js';
import { JobStoppedError, JobStopReason } from './job-worker-errors.js';
import { JobDisposition } from './job-worker-metrics.js';
import type { CompiledJobWorkerOptions } from './job-worker-options.js';

/** Node timers overflow past this many milliseconds. */
const MAX_TIMER_MS = 2_147_483_647;

/** What the worker tells an execution about itself. */
export interface JobExecutionHooks {
  /** Whether the worker still starts handlers; false once it is closing. */
  readonly accepting: () => boolean;
  /** Resolves when the handler's clean-ups may begin (the worker's other jobs have started). */
  readonly beforeCleanups: () => Promise<void>;
}

type HandlerResult =
  | { readonly kind: 'returned'; readonly outcome: JobOutcome }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'abandoned' };

/**
 * The life of one received message inside a worker: check it, claim its job, run the
 * handler under a heartbeat, a cancel watcher and the job's deadline, then record the
 * outcome and only then delete the message. {@link JobExecution.run} never rejects; every
 * failure is logged and leaves the message to come back. The worker steers it from outside
 * with {@link JobExecution.abort} and {@link JobExecution.abandon} when it shuts down.
 */
export class JobExecution {
  readonly #options: CompiledJobWorkerOptions;
  readonly #message: ReceivedMessage;
  readonly #hooks: JobExecutionHooks;
  readonly #controller = new AbortController();
  #cleanedUp: Promise<void> = Promise.resolve();
  readonly #abandonment: Promise<HandlerResult>;
  #abandon: () => void = () => undefined;
  readonly #delivery: JobDelivery;
  #fields: Record<string, unknown>;
  #jobId: string;

  constructor(
    options: CompiledJobWorkerOptions,
    message: ReceivedMessage,
    hooks: JobExecutionHooks,
  ) {
    this.#options = options;
    this.#message = message;
    this.#delivery = new JobDelivery(options, message);
    this.#hooks = hooks;
    this.#jobId = message.messageId;
    this.#fields = {
      queue: options.queue.name,
      messageId: message.messageId,
      receiveCount: message.receiveCount,
      workerId: options.workerId,
    };
    this.#abandonment = new Promise((resolve) => {
      this.#abandon = () => resolve({ kind: 'abandoned' });
    });
  }

  /**
   * The handler's clean-ups ({@link JobContext.afterOutcome}), once {@link JobExecution.run}
   * has resolved; they never reject. Those of an abandoned handler are not tracked here: they
   * run whenever it returns, if it ever does.
   */
  get cleanedUp(): Promise<void> {
    return this.#cleanedUp;
  }

  /**
   * Processes the message to its end; resolves when the message is deleted, handed back or
   * left, with the handler's clean-ups started ({@link JobExecution.cleanedUp}).
   */
  async run(): Promise<void> {
    try {
      await this.#process();
    } catch (error) {
      this.#options.logger.error('unexpected failure while processing a job message', {
        ...this.#fields,
        error: errorMessage(error),
      });
    }
  }

  /** Aborts the handler's signal with `reason` (once: the first reason stays). */
  abort(reason: JobStopReason): void {
    if (!this.#controller.signal.aborted) {
      this.#controller.abort(new JobStoppedError(this.#jobId, reason));
    }
  }

  /**
   * Stops waiting for a handler that did not return after being aborted: the message is handed
   * back at once and whatever the handler returns later is ignored.
   */
  abandon(): void {
    this.#abandon();
  }

  async #process(): Promise<void> {
    const { logger, metrics, queue, now } = this.#options;
    const job = this.#parse();
    if (job === undefined) return;
    this.#jobId = job.job_id;
    this.#fields = { ...this.#fields, jobId: job.job_id, runId: job.run_id, type: job.type };
    const fields = this.#fields;
    const count = (disposition: JobDisposition, durationSeconds?: number): void =>
      metrics.recordJob({ queue: queue.name, type: job.type, disposition, durationSeconds });

    if (!this.#hooks.accepting()) {
      await this.#delivery.handBack(this.#fields);
      return count(JobDisposition.released);
    }
    if (this.#msUntilDeadline(job) <= 0) return this.#endLate(job, count);
    const claim = await this.#claim(job);
    if (claim === undefined) return count(JobDisposition.errored);
    if (this.#message.receiveCount === 1) {
      const waitedMs = now().getTime() - Date.parse(claim.record.created_at);
      metrics.observeReceiveLatency(queue.name, Math.max(0, waitedMs) / 1000);
    }
    switch (claim.outcome) {
      case JobClaimOutcome.ended:
        logger.info('job already ended; redelivered message deleted', {
          ...fields,
          status: claim.record.status,
        });
        await this.#delivery.delete(this.#fields);
        return count(JobDisposition.duplicate);
      case JobClaimOutcome.cancelRequested:
        return this.#finish(job, {
          status: JobStatus.cancelled,
          changes: { error: 'cancelled before it started' },
        });
      case JobClaimOutcome.held:
        // A duplicate delivery: the owner heartbeats, so the message is left alone (it comes
        // back after its visibility timeout, by when the job has ended or its owner is gone).
        logger.info('job runs under a live worker; duplicate delivery left alone', {
          ...fields,
          ownerId: claim.record.worker_id,
        });
        return count(JobDisposition.held);
      case JobClaimOutcome.takenOver:
        logger.warn('taking over a running job (its worker stopped heartbeating or gave it up)', {
          ...fields,
          previousWorkerId: claim.previousWorkerId,
        });
        break;
      case JobClaimOutcome.claimed:
        break;
      default:
        return assertNever(claim, 'job claim');
    }
    this.#delivery.claimed(job.job_id);
    if (!this.#hooks.accepting()) {
      await this.#delivery.handBack(this.#fields);
      return count(JobDisposition.released);
    }
    await this.#runHandler(job, count);
  }

  /** Claims the job; `undefined` (logged) when the store fails or has no record of it. */
  async #claim(job: JobMessage): Promise<JobClaimResult | undefined> {
    const { jobs, logger, workerId, visibilityTimeoutSeconds } = this.#options;
    try {
      return await jobs.claim(job.job_id, {
        workerId,
        heartbeatTimeoutMs: visibilityTimeoutSeconds * 1000,
      });
    } catch (error) {
      const message =
        error instanceof JobNotFoundError
          ? 'job has no record (dispatchers create it first); message left to return'
          : 'could not claim the job; message left to come back';
      logger.error(message, { ...this.#fields, error: errorMessage(error) });
      return undefined;
    }
  }

  /** A job received past its deadline: ended as it stands, cancelled if asked, else failed. */
  async #endLate(job: JobMessage, count: (disposition: JobDisposition) => void): Promise<void> {
    const record = await this.#attempt('read the job record', () =>
      this.#options.jobs.get(job.job_id),
    );
    if (record === 'failed') return count(JobDisposition.errored);
    if (record === undefined) {
      this.#options.logger.error(
        'job has no record (dispatchers create it first); message left to return',
        this.#fields,
      );
      return count(JobDisposition.errored);
    }
    if (isTerminalJobStatus(record.status)) {
      await this.#delivery.delete(this.#fields);
      return count(JobDisposition.duplicate);
    }
    return this.#finish(
      job,
      record.cancel_requested
        ? { status: JobStatus.cancelled, changes: { error: 'cancelled before it started' } }
        : { status: JobStatus.failed, changes: { error: DEADLINE_EXCEEDED } },
    );
  }

  async #runHandler(
    job: JobMessage,
    count: (disposition: JobDisposition, durationSeconds?: number) => void,
  ): Promise<void> {
    const { queue, jobs, logger, workerId } = this.#options;
    const fields = this.#fields;
    const startedAt = performance.now();
    const heartbeat = startJobHeartbeat({
      extender: queue,
      jobs,
      jobId: job.job_id,
      workerId,
      receiptHandle: this.#message.receiptHandle,
      visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
      intervalMs: this.#options.heartbeatIntervalMs,
      onOwnershipLost: () => this.abort(JobStopReason.ownershipLost),
      logger,
      fields,
    });
    const watcher = startCancelWatcher({
      jobs,
      jobId: job.job_id,
      intervalMs: this.#options.cancelPollIntervalMs,
      onCancel: () => this.abort(JobStopReason.cancelRequested),
      logger,
      fields,
    });
    const deadline = setTimeout(
      () => this.abort(JobStopReason.deadlineExceeded),
      Math.min(MAX_TIMER_MS, this.#msUntilDeadline(job)),
    );
    const cleanups: (() => Promise<void>)[] = [];
    const context: JobContext = {
      workerId,
      signal: this.#controller.signal,
      recordStep: async (stepName, progress) => {
        await jobs.updateStep(job.job_id, stepName, progress);
      },
      afterOutcome: (cleanup) => {
        cleanups.push(cleanup);
      },
    };
    logger.info('job started', fields);
    const handled = this.#invokeHandler(job, context);
    const result = await Promise.race([handled, this.#abandonment]);
    clearTimeout(deadline);
    await Promise.all([heartbeat.stop(), watcher.stop()]);
    const durationSeconds = (performance.now() - startedAt) / 1000;
    try {
      await this.#conclude(job, result, handled, durationSeconds, count);
    } finally {
      const cleanUp = (): Promise<void> => this.#runCleanups(cleanups);
      // An abandoned handler may still use what its clean-ups release: they wait for it.
      if (result.kind === 'abandoned') void handled.then(cleanUp);
      else this.#cleanedUp = cleanUp();
    }
  }

  /** Records (or hands back) what the handler's result says. */
  async #conclude(
    job: JobMessage,
    result: HandlerResult,
    handled: Promise<HandlerResult>,
    durationSeconds: number,
    count: (disposition: JobDisposition, durationSeconds?: number) => void,
  ): Promise<void> {
    const { logger } = this.#options;
    const fields = this.#fields;
    if (result.kind === 'abandoned') {
      logger.error('job handler did not return after being aborted; message handed back', fields);
      void handled.then(() =>
        logger.warn('abandoned job handler returned; outcome ignored', fields),
      );
      // The handler may still be running: the job stays ours until its heartbeat goes stale.
      await this.#delivery.handBack(this.#fields, { release: false });
      return count(JobDisposition.released, durationSeconds);
    }
    if (result.kind === 'threw') {
      logger.error('job handler threw; message handed back', {
        ...fields,
        error: errorMessage(result.error),
      });
      await this.#delivery.handBack(this.#fields);
      return count(JobDisposition.errored, durationSeconds);
    }
    const decision = decideTerminalRecord(result.outcome, this.#stopReason());
    if (decision === 'leave') {
      logger.warn('job taken over by another worker; its outcome is left to it', fields);
      return count(JobDisposition.superseded, durationSeconds);
    }
    if (decision === 'hand-back') {
      logger.info('job stopped by shutdown; message handed back', fields);
      await this.#delivery.handBack(this.#fields);
      return count(JobDisposition.released, durationSeconds);
    }
    await this.#finish(job, decision, durationSeconds);
  }

  /**
   * Runs a job's clean-ups in the order they were registered, once the worker lets them begin;
   * each failure is logged.
   */
  async #runCleanups(cleanups: readonly (() => Promise<void>)[]): Promise<void> {
    if (cleanups.length === 0) return;
    await this.#hooks.beforeCleanups();
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        this.#options.logger.warn('job clean-up failed', {
          ...this.#fields,
          error: errorMessage(error),
        });
      }
    }
  }

  async #invokeHandler(job: JobMessage, context: JobContext): Promise<HandlerResult> {
    try {
      return { kind: 'returned', outcome: await this.#options.handler(job, context) };
    } catch (error) {
      return { kind: 'threw', error };
    }
  }

  /** Records the terminal status, then deletes the message; hands it back if recording fails. */
  async #finish(
    job: JobMessage,
    terminal: TerminalRecord,
    durationSeconds?: number,
  ): Promise<void> {
    const { jobs, logger, metrics, queue } = this.#options;
    const count = (disposition: JobDisposition): void =>
      metrics.recordJob({ queue: queue.name, type: job.type, disposition, durationSeconds });
    let result;
    try {
      result = await retry(
        () => jobs.transition(job.job_id, terminal.status, terminal.changes),
        FINISH_RETRY,
      );
    } catch (error) {
      logger.error('could not record the job outcome; message handed back', {
        ...this.#fields,
        status: terminal.status,
        error: errorMessage(error),
      });
      await this.#delivery.handBack(this.#fields);
      return count(JobDisposition.errored);
    }
    const status = result.record.status;
    if (result.outcome === 'ignored') {
      logger.info('job had already ended; its recorded status stands', { ...this.#fields, status });
    }
    await this.#delivery.delete(this.#fields);
    logger.info('job finished', { ...this.#fields, status, error: terminal.changes.error });
    count(isTerminalJobStatus(status) ? status : terminal.status);
  }

  #parse(): JobMessage | undefined {
    let body: unknown;
    try {
      body = JSON.parse(this.#message.body);
    } catch (error) {
      return this.#reject(`not JSON: ${errorMessage(error)}`);
    }
    const parsed = JobMessageSchema.safeParse(body);
    return parsed.success ? parsed.data : this.#reject(z.prettifyError(parsed.error));
  }

  #reject(problem: string): undefined {
    this.#options.logger.error('invalid job message left to dead-letter', {
      ...this.#fields,
      problem,
    });
    this.#options.metrics.recordInvalidMessage(this.#options.queue.name);
    return undefined;
  }

  /** Runs a job store call; a failure is logged and leaves the message to come back. */
  async #attempt<T>(what: string, call: () => Promise<T>): Promise<T | 'failed'> {
    try {
      return await call();
    } catch (error) {
      this.#options.logger.error(`could not ${what}; message left to come back`, {
        ...this.#fields,
        error: errorMessage(error),
      });
      return 'failed';
    }
  }

  #stopReason(): JobStopReason | undefined {
    const reason: unknown = this.#controller.signal.reason;
    return reason instanceof JobStoppedError ? reason.stopReason : undefined;
  }

  #msUntilDeadline(job: JobMessage): number {
    return Date.parse(job.deadline) - this.#options.now().getTime();
  }
}
