import { discoveryJobId } from '../../core/contracts/jobs.js';
import { errorMessage } from '../../core/errors.js';
import { MAX_RECEIVE_BATCH } from '../../core/job-plane/queue-settings.js';
import type { ReceivedMessage } from '../../core/ports/job-queue.js';
import { backoffDelay, type BackoffOptions } from '../../core/retry.js';
import { JobExecution } from './job-execution.js';
import { QuietPeriod } from './quiet-period.js';
import { JobStopReason, JobWorkerStartError, JobWorkerStateError } from './job-worker-errors.js';
import {
  compileJobWorkerOptions,
  type CompiledJobWorkerOptions,
  type JobWorkerOptions,
} from './job-worker-options.js';

/** The life of a {@link JobWorker}: `idle → running → stopping → stopped`. */
export const JobWorkerState = {
  /** Constructed; nothing received yet. */
  idle: 'idle',
  /** Receiving and running jobs. */
  running: 'running',
  /** `close()` began: no more receives, running jobs drain or are handed back. */
  stopping: 'stopping',
  /** Every message released, every timer stopped. */
  stopped: 'stopped',
} as const;
/** One of {@link JobWorkerState}. */
export type JobWorkerState = (typeof JobWorkerState)[keyof typeof JobWorkerState];

/** Waits between failed receives: 1 s doubling to 30 s, plus up to 500 ms. */
const RECEIVE_BACKOFF: BackoffOptions = { baseDelayMs: 1000, maxDelayMs: 30_000, jitterMs: 500 };

/**
 * The longest the clean-ups of an ended job wait for the worker to stop starting jobs
 * (`cleanupQuietMs`): past it they run beside whatever starts.
 */
export const CLEANUP_MAX_DEFER_MS = 1000;

/** A job id no dispatcher makes, read at start to prove the job store answers. */
const PROBE_JOB_ID = discoveryJobId('forge-worker-readiness-probe');

/**
 * A long-running consumer of one job queue (a hot worker pool's process): receives up to
 * `concurrency` jobs at once, claims each in the job store, runs the job handler under a
 * visibility heartbeat, a cancel watcher and the job's deadline, records the outcome and only
 * then deletes the message. The constructor validates options and does no I/O; `start()`
 * checks the backends and starts receiving; `close()` (idempotent) stops receiving, lets
 * running jobs finish within the grace period, aborts the rest and hands their messages back.
 *
 * A receive in progress is never aborted (with fauxqs an aborted long poll can strand a
 * message), so `close()` takes up to `receiveWaitSeconds` even when idle; what that last
 * receive returns is handed back at once.
 */
export class JobWorker {
  readonly #options: CompiledJobWorkerOptions;
  #state: JobWorkerState = JobWorkerState.idle;
  readonly #executions = new Map<JobExecution, Promise<void>>();
  /** Clean-ups of ended jobs still running beside the next jobs, or waiting to. */
  readonly #cleanups = new Set<Promise<void>>();
  /** Quiet once no job started for `cleanupQuietMs`: when clean-ups begin. */
  readonly #launches: QuietPeriod;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #loopFailed = false;
  /** Wakes the receive loop when a slot frees up or the worker stops. */
  #wakeLoop: (() => void) | undefined;
  /** Cuts a receive backoff short when the worker stops. */
  #endPause: (() => void) | undefined;

  constructor(options: JobWorkerOptions) {
    this.#options = compileJobWorkerOptions(options);
    this.#launches = new QuietPeriod({
      quietMs: this.#options.cleanupQuietMs,
      maxWaitMs: CLEANUP_MAX_DEFER_MS,
    });
  }

  get workerId(): string {
    return this.#options.workerId;
  }

  get state(): JobWorkerState {
    return this.#state;
  }

  /** Jobs held now (claimed, running, or being recorded or handed back). */
  get inFlight(): number {
    return this.#executions.size;
  }

  /** For `/readyz`: running, its backends answered at start, and its receive loop alive. */
  get ready(): boolean {
    return this.#state === JobWorkerState.running && !this.#loopFailed;
  }

  /** For `/healthz`: running or draining, with its receive loop alive. */
  get live(): boolean {
    return (
      (this.#state === JobWorkerState.running || this.#state === JobWorkerState.stopping) &&
      !this.#loopFailed
    );
  }

  /**
   * Checks that the queue and the job store answer, then starts receiving; resolves once the
   * loop runs (not when it ends). Throws {@link JobWorkerStartError} when a backend does not
   * answer (the worker stays `idle` and may be started again), {@link JobWorkerStateError}
   * when it was started or closed before.
   */
  start(): Promise<void> {
    if (this.#state !== JobWorkerState.idle || this.#starting || this.#closing) {
      return Promise.reject(new JobWorkerStateError(`cannot start a ${this.#state} job worker`));
    }
    this.#starting = this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  /**
   * Stops the worker, in order: no more receives; running jobs get `shutdownGraceMs` to finish;
   * the rest are aborted (signal reason `worker-shutdown`) and get `abortedJobWaitMs` to
   * return; every message still held is handed back (visibility 0) without a terminal status;
   * timers stop. Resolves when everything is released; every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #start(): Promise<void> {
    const { queue, jobs, logger } = this.#options;
    try {
      await queue.depth();
    } catch (error) {
      throw new JobWorkerStartError(`queue ${queue.name}`, error);
    }
    try {
      await jobs.get(PROBE_JOB_ID);
    } catch (error) {
      throw new JobWorkerStartError('job store', error);
    }
    if (this.#closing !== undefined) return;
    this.#state = JobWorkerState.running;
    this.#reportInFlight();
    this.#loop = this.#receiveLoop().catch((error: unknown) => {
      this.#loopFailed = true;
      logger.error('job worker receive loop failed', {
        ...this.#logFields(),
        error: errorMessage(error),
      });
    });
    logger.info('job worker started', {
      ...this.#logFields(),
      concurrency: this.#options.concurrency,
    });
  }

  async #close(): Promise<void> {
    // A running worker turns `stopping` before the first await, so readiness drops at once.
    if (this.#state !== JobWorkerState.running) await this.#starting?.catch(() => undefined);
    if (this.#state !== JobWorkerState.running) {
      this.#state = JobWorkerState.stopped;
      return;
    }
    const { logger, shutdownGraceMs, abortedJobWaitMs } = this.#options;
    this.#state = JobWorkerState.stopping;
    this.#launches.end();
    this.#wake();
    logger.info('job worker stopping', { ...this.#logFields(), inFlight: this.inFlight });
    if (!(await this.#drained(shutdownGraceMs))) {
      logger.warn('jobs still running after the grace period; aborting them', {
        ...this.#logFields(),
        inFlight: this.inFlight,
      });
      for (const execution of this.#executions.keys()) {
        execution.abort(JobStopReason.workerShutdown);
      }
      if (!(await this.#drained(abortedJobWaitMs))) {
        for (const execution of this.#executions.keys()) execution.abandon();
      }
    }
    await this.#loop;
    await Promise.all(this.#executions.values());
    await Promise.all(this.#cleanups);
    this.#state = JobWorkerState.stopped;
    this.#reportInFlight();
    logger.info('job worker stopped', this.#logFields());
  }

  async #receiveLoop(): Promise<void> {
    const { queue, logger, concurrency } = this.#options;
    let failures = 0;
    while (this.#isRunning()) {
      // Clean-ups run beside the next jobs; those beyond one per slot hold a slot each.
      const free =
        concurrency - this.#executions.size - Math.max(0, this.#cleanups.size - concurrency);
      if (free <= 0) {
        // Clean-ups held back for the jobs starting are now what keeps the next from starting.
        if (this.#executions.size < concurrency) this.#launches.releaseWaiting();
        await new Promise<void>((resolve) => (this.#wakeLoop = resolve));
        continue;
      }
      let messages: readonly ReceivedMessage[];
      try {
        messages = await queue.receive({
          maxMessages: Math.min(free, MAX_RECEIVE_BATCH),
          waitTimeSeconds: this.#options.receiveWaitSeconds,
          visibilityTimeoutSeconds: this.#options.visibilityTimeoutSeconds,
        });
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = Math.round(backoffDelay(failures, RECEIVE_BACKOFF));
        logger.error('receive failed; trying again', {
          ...this.#logFields(),
          attempt: failures,
          delayMs,
          error: errorMessage(error),
        });
        await this.#pause(delayMs);
        continue;
      }
      for (const message of messages) this.#launch(message);
    }
  }

  /** Starts processing one message; once the worker stops, the execution hands it back. */
  #launch(message: ReceivedMessage): void {
    this.#launches.markActivity();
    const execution = new JobExecution(this.#options, message, {
      accepting: () => this.#isRunning(),
      beforeCleanups: () => this.#launches.wait(),
    });
    const done = execution.run().finally(() => {
      this.#executions.delete(execution);
      const cleanedUp = execution.cleanedUp.finally(() => {
        this.#cleanups.delete(cleanedUp);
        this.#wake();
      });
      this.#cleanups.add(cleanedUp);
      this.#reportInFlight();
      this.#wake();
    });
    this.#executions.set(execution, done);
    this.#reportInFlight();
  }

  /** Waits until no execution is left, or `timeoutMs`; true when none is left. */
  async #drained(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.#executions.size > 0) {
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.all(this.#executions.values()).then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), remainingMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) return false;
    }
    return true;
  }

  /** Sleeps `ms`, or less if the worker stops meanwhile. */
  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#endPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#endPause = undefined;
  }

  #wake(): void {
    const wakeLoop = this.#wakeLoop;
    this.#wakeLoop = undefined;
    wakeLoop?.();
    if (!this.#isRunning()) this.#endPause?.();
  }

  #isRunning(): boolean {
    return this.#state === JobWorkerState.running;
  }

  #reportInFlight(): void {
    const { metrics, queue, concurrency } = this.#options;
    metrics.setInFlight(queue.name, this.#executions.size, concurrency);
  }

  #logFields(): Record<string, unknown> {
    return { queue: this.#options.queue.name, workerId: this.#options.workerId };
  }
}
