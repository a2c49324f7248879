import type { PollInterval } from '../dispatcher/dispatch-job.js';
import { silentDispatcherLogger, type DispatcherLogger } from '../dispatcher/dispatcher-logger.js';
import { ForgeError } from '../core/errors.js';
import type {
  SubmittedWorkflow,
  WorkflowEngine,
  WorkflowRun,
} from '../core/ports/workflow-engine.js';
import { RunExecution, type EnginePlane, type JobTimeouts } from './run-execution.js';
import type { EngineEvent, RunOutcome } from './run-outcome.js';

/** A run's deadline (DESIGN.md section 5): 24 hours. */
export const RUN_DEADLINE_MS = 86_400_000;

/** Job timeouts when nothing says otherwise; the same as the dispatcher command line's. */
export const DEFAULT_JOB_TIMEOUTS: JobTimeouts = { discovery: 900, task: 7200, release: 3600 };

/**
 * Reads of a job's record while waiting for it, on a plane that signals job changes (the
 * embedded one): the signal wakes the wait at each change of status, so these reads are only
 * a safety net. A hundred jobs waiting in the queue cost a read each every second or two, not
 * several in the first half second, when the workers are starting the first of them.
 */
export const SIGNALLED_POLL_INTERVAL: PollInterval = { initialMs: 1_000, maxMs: 2_000 };

/** The same on a plane without change signals (AWS), where the reads are how an end is seen. */
export const UNSIGNALLED_POLL_INTERVAL: PollInterval = { initialMs: 50, maxMs: 500 };

/** Options of {@link EmbeddedWorkflowEngine}. */
export interface EmbeddedWorkflowEngineOptions {
  /** The job plane the dispatcher logic submits to and reads from. */
  readonly plane: EnginePlane;
  /** Default {@link RUN_DEADLINE_MS}. */
  readonly runDeadlineMs?: number;
  /** Default {@link DEFAULT_JOB_TIMEOUTS}. */
  readonly jobTimeouts?: Partial<JobTimeouts>;
  /**
   * Default {@link SIGNALLED_POLL_INTERVAL} for a plane that signals job changes,
   * {@link UNSIGNALLED_POLL_INTERVAL} for one that does not.
   */
  readonly pollInterval?: PollInterval;
  /** How long a stopped run waits for its jobs to record their end; default 30 s. */
  readonly stopWaitMs?: number;
  /**
   * Ended runs whose outcome stays readable (and whose resubmission is recognised), the
   * oldest forgotten first, so a long-serving process does not grow without end; default
   * {@link RETAINED_ENDED_RUNS}. Runs still going are always kept.
   */
  readonly retainEndedRuns?: number;
  /** Whether release jobs are dispatched (only when a release pool serves the plane); default false. */
  readonly releases?: boolean;
  readonly logger?: DispatcherLogger;
  /** Called for every event of every run; an observer that throws is logged and ignored. */
  readonly onEvent?: (event: EngineEvent) => void;
  readonly now?: () => Date;
}

/** Ended runs an engine remembers when nothing says otherwise. */
export const RETAINED_ENDED_RUNS = 1000;

/** The engine refused a request (a closed engine, an unknown run). */
export class EmbeddedEngineError extends ForgeError {}

interface ActiveRun {
  readonly name: string;
  readonly stop: AbortController;
  readonly outcome: Promise<RunOutcome>;
}

/**
 * The workflow engine of the embedded mode: runs each submitted run's plan in this process
 * with the dispatcher's own logic and deterministic job ids (see {@link RunExecution}), where
 * production renders the same plan into an Argo Workflow. Submitting a run twice returns the
 * first submission; `close()` cancels the runs still going and waits for them.
 */
export class EmbeddedWorkflowEngine implements WorkflowEngine {
  readonly #options: Required<Omit<EmbeddedWorkflowEngineOptions, 'jobTimeouts'>> & {
    readonly jobTimeouts: JobTimeouts;
  };
  readonly #runs = new Map<string, ActiveRun>();
  /** Ended runs in the order they ended, for forgetting the oldest. */
  readonly #ended: string[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddedWorkflowEngineOptions) {
    this.#options = {
      plane: options.plane,
      runDeadlineMs: options.runDeadlineMs ?? RUN_DEADLINE_MS,
      jobTimeouts: { ...DEFAULT_JOB_TIMEOUTS, ...options.jobTimeouts },
      pollInterval:
        options.pollInterval ??
        (options.plane.jobChanges === undefined
          ? UNSIGNALLED_POLL_INTERVAL
          : SIGNALLED_POLL_INTERVAL),
      stopWaitMs: options.stopWaitMs ?? 30_000,
      retainEndedRuns: options.retainEndedRuns ?? RETAINED_ENDED_RUNS,
      releases: options.releases ?? false,
      logger: options.logger ?? silentDispatcherLogger,
      onEvent: options.onEvent ?? (() => undefined),
      now: options.now ?? (() => new Date()),
    };
  }

  /** Starts the run in the background; a run submitted before is not started again. */
  submit(run: WorkflowRun): Promise<SubmittedWorkflow> {
    if (this.#closing !== undefined) {
      return Promise.reject(new EmbeddedEngineError('the engine is closed'));
    }
    const existing = this.#runs.get(run.runId);
    if (existing !== undefined) return Promise.resolve({ name: existing.name });
    const { now, runDeadlineMs } = this.#options;
    const execution = new RunExecution({
      ...this.#options,
      run,
      deadline: new Date(now().getTime() + runDeadlineMs),
      deadlineGraceMs: 60_000,
    });
    const stop = new AbortController();
    const name = `embedded-${run.runId}`;
    const outcome = execution.execute(stop.signal);
    this.#runs.set(run.runId, { name, stop, outcome });
    void outcome.finally(() => this.#forgetOldest(run.runId)).catch(() => undefined);
    return Promise.resolve({ name });
  }

  /** Cancels a run still going: its running jobs are stopped and the rest skipped. */
  cancel(runId: string): Promise<void> {
    this.#runs.get(runId)?.stop.abort(new Error('the run was cancelled'));
    return Promise.resolve();
  }

  /** How the run ended, once it has; rejects for a run this engine never received. */
  outcome(runId: string): Promise<RunOutcome> {
    const run = this.#runs.get(runId);
    if (run === undefined) {
      return Promise.reject(new EmbeddedEngineError(`no run ${runId} was submitted here`));
    }
    return run.outcome;
  }

  #forgetOldest(endedRunId: string): void {
    this.#ended.push(endedRunId);
    while (this.#ended.length > this.#options.retainEndedRuns) {
      const forgotten = this.#ended.shift();
      if (forgotten !== undefined) this.#runs.delete(forgotten);
    }
  }

  /** Refuses new runs, cancels the ones going and waits for them to end; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const run of this.#runs.values()) run.stop.abort(new Error('the engine is closing'));
      await Promise.allSettled([...this.#runs.values()].map((run) => run.outcome));
    })();
    return this.#closing;
  }
}
