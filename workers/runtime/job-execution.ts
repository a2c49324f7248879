import { z } from 'zod';
import { JobMessageSchema, type JobMessage } from '../../core/contracts/jobs.js';
import { errorMessage } from '../../core/errors.js';
import { ReceiptHandleInvalidError } from '../../core/job-plane/job-plane-errors.js';
import type { ReceivedMessage } from '../../core/ports/job-queue.js';
import { isTerminalJobStatus, JobStatus } from '../../core/statuses.js';
import { retry, type RetryOptions } from '../../core/retry.js';
import { startCancelWatcher } from './cancel-watcher.js';
import type { JobContext, JobOutcome } from './job-handler.js';
import { DEADLINE_EXCEEDED, decideTerminalRecord, type TerminalRecord } from './job-outcome.js';
import { JobStoppedError, JobStopReason } from './job-worker-errors.js';
import { JobDisposition } from './job-worker-metrics.js';
import type { CompiledJobWorkerOptions } from './job-worker-options.js';
import { startVisibilityHeartbeat } from './visibility-heartbeat.js';
import type { WorkerLogger } from './worker-logger.js';

/** Retries of the writes that end a job (record, delete): a few quick ones, transient only. */
const FINISH_RETRY: Omit<RetryOptions, 'signal'> = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 2000,
  jitterMs: 100,
};

/** Node timers overflow past this many milliseconds. */
const MAX_TIMER_MS = 2_147_483_647;

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
  /** Whether the worker still starts handlers; false once it is closing. */
  readonly #accepting: () => boolean;
  readonly #controller = new AbortController();
  readonly #abandonment: Promise<HandlerResult>;
  #abandon: () => void = () => undefined;
  #fields: Record<string, unknown>;
  #jobId: string;

  constructor(
    options: CompiledJobWorkerOptions,
    message: ReceivedMessage,
    accepting: () => boolean,
  ) {
    this.#options = options;
    this.#message = message;
    this.#accepting = accepting;
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

  /** Processes the message to its end; resolves when the message is deleted, handed back or left. */
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
    const { jobs, logger, metrics, queue, now } = this.#options;
    const job = this.#parse();
    if (job === undefined) return;
    this.#jobId = job.job_id;
    this.#fields = { ...this.#fields, jobId: job.job_id, runId: job.run_id, type: job.type };
    const fields = this.#fields;
    const count = (disposition: JobDisposition, durationSeconds?: number): void =>
      metrics.recordJob({ queue: queue.name, type: job.type, disposition, durationSeconds });

    if (!this.#accepting()) {
      await this.#handBack();
      return count(JobDisposition.released);
    }
    const record = await this.#attempt('read the job record', () => jobs.get(job.job_id));
    if (record === 'failed') return count(JobDisposition.errored);
    if (record === undefined) {
      logger.error(
        'job has no record (dispatchers create it first); message left to return',
        fields,
      );
      return count(JobDisposition.errored);
    }
    if (this.#message.receiveCount === 1) {
      const waitedMs = now().getTime() - Date.parse(record.created_at);
      metrics.observeReceiveLatency(queue.name, Math.max(0, waitedMs) / 1000);
    }
    if (isTerminalJobStatus(record.status)) {
      logger.info('job already ended; redelivered message deleted', {
        ...fields,
        status: record.status,
      });
      await this.#deleteMessage();
      return count(JobDisposition.duplicate);
    }
    if (record.cancel_requested) {
      const cancelled = {
        status: JobStatus.cancelled,
        changes: { error: 'cancelled before it started' },
      };
      return this.#finish(job, cancelled);
    }
    if (this.#msUntilDeadline(job) <= 0) {
      return this.#finish(job, { status: JobStatus.failed, changes: { error: DEADLINE_EXCEEDED } });
    }
    const claim = await this.#attempt('claim the job', () =>
      jobs.transition(job.job_id, JobStatus.running, { worker_id: this.#options.workerId }),
    );
    if (claim === 'failed') return count(JobDisposition.errored);
    if (claim.outcome === 'ignored') {
      logger.info('job ended before it was claimed; message deleted', {
        ...fields,
        status: claim.record.status,
      });
      await this.#deleteMessage();
      return count(JobDisposition.duplicate);
    }
    if (claim.outcome === 'unchanged' && record.worker_id !== this.#options.workerId) {
      logger.warn('taking over a running job (its worker stopped heartbeating)', {
        ...fields,
        previousWorkerId: record.worker_id,
      });
    }
    if (!this.#accepting()) {
      await this.#handBack();
      return count(JobDisposition.released);
    }
    await this.#runHandler(job, count);
  }

  async #runHandler(
    job: JobMessage,
    count: (disposition: JobDisposition, durationSeconds?: number) => void,
  ): Promise<void> {
    const { queue, jobs, logger, workerId } = this.#options;
    const fields = this.#fields;
    const startedAt = performance.now();
    const heartbeat = startVisibilityHeartbeat({
      extender: queue,
      receiptHandle: this.#message.receiptHandle,
      visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
      intervalMs: this.#options.heartbeatIntervalMs,
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
    const context: JobContext = {
      workerId,
      signal: this.#controller.signal,
      recordStep: async (stepName, progress) => {
        await jobs.updateStep(job.job_id, stepName, progress);
      },
    };
    logger.info('job started', fields);
    const handled = this.#invokeHandler(job, context);
    const result = await Promise.race([handled, this.#abandonment]);
    clearTimeout(deadline);
    await Promise.all([heartbeat.stop(), watcher.stop()]);
    const durationSeconds = (performance.now() - startedAt) / 1000;

    if (result.kind === 'abandoned') {
      logger.error('job handler did not return after being aborted; message handed back', fields);
      void handled.then(() =>
        logger.warn('abandoned job handler returned; outcome ignored', fields),
      );
      await this.#handBack();
      return count(JobDisposition.released, durationSeconds);
    }
    if (result.kind === 'threw') {
      logger.error('job handler threw; message handed back', {
        ...fields,
        error: errorMessage(result.error),
      });
      await this.#handBack();
      return count(JobDisposition.errored, durationSeconds);
    }
    const decision = decideTerminalRecord(result.outcome, this.#stopReason());
    if (decision === 'hand-back') {
      logger.info('job stopped by shutdown; message handed back', fields);
      await this.#handBack();
      return count(JobDisposition.released, durationSeconds);
    }
    await this.#finish(job, decision, durationSeconds);
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
      await this.#handBack();
      return count(JobDisposition.errored);
    }
    const status = result.record.status;
    if (result.outcome === 'ignored') {
      logger.info('job had already ended; its recorded status stands', { ...this.#fields, status });
    }
    await this.#deleteMessage();
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

  async #deleteMessage(): Promise<void> {
    const { queue, logger } = this.#options;
    try {
      await retry(() => queue.delete(this.#message.receiptHandle), FINISH_RETRY);
    } catch (error) {
      // The record is terminal, so a redelivery is deleted without running.
      logProblem(logger, error, 'could not delete the job message', this.#fields);
    }
  }

  /** Makes the message visible again at once, for this or another worker. */
  async #handBack(): Promise<void> {
    const { queue, logger } = this.#options;
    try {
      await queue.changeVisibility(this.#message.receiptHandle, 0);
    } catch (error) {
      logProblem(logger, error, 'could not hand the job message back', this.#fields);
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

/**
 * Logs a failed queue call: a receipt handle that is no longer valid is expected (the message
 * came back or went elsewhere) and only a warning; anything else is an error.
 */
function logProblem(
  logger: WorkerLogger,
  error: unknown,
  message: string,
  fields: Record<string, unknown>,
): void {
  const entry = { ...fields, error: errorMessage(error) };
  if (error instanceof ReceiptHandleInvalidError) logger.warn(message, entry);
  else logger.error(message, entry);
}
