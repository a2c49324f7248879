import { EmbeddedJobQueue } from '../../../adapters/embedded/embedded-job-queue.js';
import { EmbeddedJobStore } from '../../../adapters/embedded/embedded-job-store.js';
import { discoveryJobId, type JobMessage } from '../../../core/contracts/jobs.js';
import type { QueueSettings } from '../../../core/job-plane/queue-settings.js';
import { JobType } from '../../../core/statuses.js';
import type { JobHandler } from '../job-handler.js';
import { JobWorker } from '../job-worker.js';
import type { JobWorkerOptions } from '../job-worker-options.js';
import type { WorkerLogger } from '../worker-logger.js';

/*
 * Test support for the worker runtime (not used by production code): real embedded backends
 * (queue with its dead-letter queue, job store), job submission the way a dispatcher does it
 * (record first, then message), and workers with short timings that are all closed at the end.
 */

/** One line a {@link RecordingLogger} kept. */
export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps every line, for assertions. */
export class RecordingLogger implements WorkerLogger {
  readonly entries: LogEntry[] = [];

  info(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }

  /** The messages logged at `level`. */
  at(level: LogEntry['level']): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }
}

/** Options of {@link WorkerHarness}. */
export interface WorkerHarnessOptions {
  /** The queue's visibility timeout; default 30 s. */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to the dead-letter queue; default 3. */
  readonly maxReceiveCount?: number;
}

/** The worker options a test may override; the harness supplies the rest. */
export type TestWorkerOptions = Partial<Omit<JobWorkerOptions, 'handler'>> & {
  readonly handler: JobHandler;
};

/** Embedded backends plus helpers to submit jobs and start workers on them. */
export class WorkerHarness {
  readonly settings: QueueSettings;
  readonly deadLetters: EmbeddedJobQueue;
  readonly queue: EmbeddedJobQueue;
  readonly jobs = new EmbeddedJobStore();
  readonly logger = new RecordingLogger();
  readonly #workers: JobWorker[] = [];
  #runs = 0;

  constructor(options: WorkerHarnessOptions = {}) {
    this.settings = {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
      retentionSeconds: 3600,
      maxReceiveCount: options.maxReceiveCount ?? 3,
    };
    this.deadLetters = new EmbeddedJobQueue({ name: 'tasks-dlq', settings: this.settings });
    this.queue = new EmbeddedJobQueue({
      name: 'tasks',
      settings: this.settings,
      deadLetterQueue: this.deadLetters,
    });
  }

  /** A valid discovery job message of a new run; `deadline` defaults to an hour from now. */
  message(overrides: { readonly deadline?: Date } = {}): JobMessage {
    this.#runs += 1;
    const runId = `run-${this.#runs}`;
    return {
      job_id: discoveryJobId(runId),
      run_id: runId,
      type: JobType.discovery,
      repository: { name: 'acme/widgets', clone_url: 'https://example.invalid/acme/widgets.git' },
      commit_sha: 'a'.repeat(40),
      deadline: (overrides.deadline ?? new Date(Date.now() + 3_600_000)).toISOString(),
      payload: {},
    };
  }

  /** Submits a job as a dispatcher does: the record first, then the message. */
  async submit(overrides: { readonly deadline?: Date } = {}): Promise<JobMessage> {
    const message = this.message(overrides);
    await this.jobs.create({ job_id: message.job_id, run_id: message.run_id, type: message.type });
    await this.queue.send(JSON.stringify(message), { deduplicationKey: message.job_id });
    return message;
  }

  /** A worker on the harness's backends with short timings; closed by {@link close}. */
  worker(options: TestWorkerOptions): JobWorker {
    const worker = new JobWorker({
      workerId: `worker-${this.#workers.length + 1}`,
      queue: this.queue,
      jobs: this.jobs,
      concurrency: 1,
      visibilityTimeoutSeconds: this.settings.visibilityTimeoutSeconds,
      receiveWaitSeconds: 1,
      cancelPollIntervalMs: 100,
      shutdownGraceMs: 2000,
      abortedJobWaitMs: 1000,
      logger: this.logger,
      ...options,
    });
    this.#workers.push(worker);
    return worker;
  }

  /** Creates a worker and starts it. */
  async startWorker(options: TestWorkerOptions): Promise<JobWorker> {
    const worker = this.worker(options);
    await worker.start();
    return worker;
  }

  /** Closes every worker, then the backends. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
    await this.queue.close();
    await this.deadLetters.close();
    await this.jobs.close();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
