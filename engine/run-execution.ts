import { setMaxListeners } from 'node:events';
import type { JobMessage, JobRecord } from '../core/contracts/jobs.js';
import { errorMessage } from '../core/errors.js';
import { queueForJobType } from '../core/job-plane/queue-settings.js';
import {
  buildRunPlan,
  type PlannedGroup,
  type PlannedTask,
  type RunPlan,
} from '../core/plan/run-plan.js';
import type { JobChangeSignal, JobStore } from '../core/ports/job-store.js';
import type { WorkflowRun } from '../core/ports/workflow-engine.js';
import {
  ExecutionStatus,
  JobStatus,
  RunStatus,
  isTerminalJobStatus,
  type TerminalRunStatus,
} from '../core/statuses.js';
import { dispatchJob, type PollInterval } from '../dispatcher/dispatch-job.js';
import { DispatchAbortedError } from '../dispatcher/dispatcher-errors.js';
import type { DispatcherLogger } from '../dispatcher/dispatcher-logger.js';
import { JobStatusWait } from '../dispatcher/job-status-wait.js';
import { readDiscoveryResult } from '../dispatcher/dispatcher-outputs.js';
import {
  discoveryMessage,
  releaseMessages,
  taskMessage,
  type JobSource,
} from '../dispatcher/job-messages.js';
import type { DispatcherPlane } from '../dispatcher/run-dispatch.js';
import {
  executionStatusOfJob,
  firstFailedStep,
  type EngineEvent,
  type ReleaseOutcome,
  type RunFailure,
  type RunOutcome,
  type TaskOutcome,
} from './run-outcome.js';

/** How long each kind of job may run, in seconds, within the run's own deadline. */
export interface JobTimeouts {
  readonly discovery: number;
  readonly task: number;
  readonly release: number;
}

/**
 * The job plane as the engine uses it: the dispatcher's slices, plus status changes for the
 * release jobs it records as not run.
 */
export interface EnginePlane extends DispatcherPlane {
  readonly jobs: DispatcherPlane['jobs'] & Pick<JobStore, 'transition'>;
  /** Wakes a dispatch at its job's changes (the embedded plane), instead of at its next poll. */
  readonly jobChanges?: JobChangeSignal | undefined;
}

/** Options of a {@link RunExecution}; the engine compiles them once for every run. */
export interface RunExecutionOptions {
  readonly run: WorkflowRun;
  readonly plane: EnginePlane;
  /** The run's deadline: past it, running jobs are cancelled and the run fails. */
  readonly deadline: Date;
  readonly jobTimeouts: JobTimeouts;
  /** How long the engine keeps waiting for a job past its deadline for the worker's record. */
  readonly deadlineGraceMs: number;
  /** How long to wait for the jobs it asked to stop to record their end. */
  readonly stopWaitMs: number;
  readonly pollInterval: PollInterval;
  /** Whether release jobs are dispatched (a plane without a release pool cannot run them). */
  readonly releases: boolean;
  readonly logger: DispatcherLogger;
  readonly onEvent: (event: EngineEvent) => void;
  readonly now: () => Date;
}

/** The end of one dispatch: the job's record, terminal unless the engine gave up waiting. */
interface Dispatched {
  readonly record: JobRecord | undefined;
  readonly error?: unknown;
}

/**
 * One run in the in-process engine, with the dispatcher's own logic for every job:
 * discovery, then the phase groups strictly one after another with every task of a group
 * dispatched at once, then the release stage when discovery triggered it.
 *
 * Fail fast: the first task that does not complete stops its group. The engine requests the
 * cancellation of every job of the group still running (their workers kill the step
 * processes), waits for them to record their end, and never submits a job of a later group.
 * Aborting the run's signal (a cancel, or the engine closing) does the same and ends the run
 * `cancelled`; the run's deadline ends it `failed`.
 */
export class RunExecution {
  readonly #options: RunExecutionOptions;
  readonly #startedAt: Date;
  readonly #outcomes = new Map<string, TaskOutcome>();
  readonly #release: ReleaseOutcome[] = [];
  #discovery: JobRecord | undefined;
  #plan: RunPlan | undefined;
  #failure: RunFailure | undefined;
  #releaseSkipped: string | undefined;

  constructor(options: RunExecutionOptions) {
    this.#options = options;
    this.#startedAt = options.now();
  }

  /** Runs to the end; never throws: an unexpected error ends the run `failed` with its reason. */
  async execute(signal: AbortSignal): Promise<RunOutcome> {
    const runSignal = AbortSignal.any([signal, this.#deadlineSignal()]);
    let status: TerminalRunStatus;
    try {
      status = await this.#stages(runSignal);
    } catch (error) {
      this.#fail({ message: `the engine stopped: ${errorMessage(error)}` });
      status = RunStatus.failed;
    }
    if (status !== RunStatus.success && signal.aborted) status = RunStatus.cancelled;
    const outcome = this.#outcome(status);
    this.#emit({ type: 'run-ended', runId: this.#runId, outcome });
    return outcome;
  }

  get #runId(): string {
    return this.#options.run.runId;
  }

  async #stages(signal: AbortSignal): Promise<TerminalRunStatus> {
    const discovered = await this.#discover(signal);
    if (discovered === undefined) return RunStatus.failed;
    const plan = buildRunPlan(this.#runId, discovered);
    this.#plan = plan;
    this.#emit({ type: 'planned', runId: this.#runId, plan });
    for (const group of plan.groups) {
      if (this.#failure !== undefined || signal.aborted) {
        this.#skip(group.tasks);
        continue;
      }
      const succeeded = await this.#runGroup(group, signal);
      if (!succeeded) this.#failIfUnexplained(signal, `phase group ${group.group} did not succeed`);
    }
    if (this.#failure !== undefined || signal.aborted) {
      this.#failIfUnexplained(signal, 'the run was stopped');
      return RunStatus.failed;
    }
    return (await this.#runRelease(plan, signal)) ? RunStatus.success : RunStatus.failed;
  }

  async #discover(signal: AbortSignal) {
    const message = discoveryMessage(this.#source(this.#options.jobTimeouts.discovery));
    this.#emit({ type: 'discovery-started', runId: this.#runId, jobId: message.job_id });
    const { record, error } = await this.#dispatch(message, signal);
    this.#discovery = record;
    if (record !== undefined) this.#emit({ type: 'discovery-ended', runId: this.#runId, record });
    if (record?.status !== JobStatus.completed) {
      this.#fail({
        jobId: message.job_id,
        message: `discovery did not complete: ${record?.error ?? reasonOf(error, signal)}`,
      });
      return undefined;
    }
    try {
      return await readDiscoveryResult(this.#options.plane.blobs.results, record);
    } catch (readError) {
      this.#fail({ jobId: message.job_id, message: errorMessage(readError) });
      return undefined;
    }
  }

  /** Dispatches every task of the group at once; true when all of them completed. */
  async #runGroup(group: PlannedGroup, runSignal: AbortSignal): Promise<boolean> {
    this.#emit({ type: 'group-started', runId: this.#runId, group });
    const stopGroup = new AbortController();
    const signal = AbortSignal.any([runSignal, stopGroup.signal]);
    // Every task's dispatch listens to the group's signal; a group may hold a hundred.
    setMaxListeners(0, signal, runSignal);
    const ended = await Promise.all(
      group.tasks.map(async (task) => {
        const source = this.#source(this.#options.jobTimeouts.task);
        const { record, error } = await this.#dispatch(taskMessage(source, task), signal);
        const outcome = this.#record(task, record);
        if (outcome.status !== ExecutionStatus.success) {
          if (!runSignal.aborted) this.#failTask(task, record, error, signal);
          stopGroup.abort(new Error(`${task.jobId} did not complete`));
        }
        return outcome;
      }),
    );
    const succeeded = ended.every((outcome) => outcome.status === ExecutionStatus.success);
    this.#emit({
      type: 'group-ended',
      runId: this.#runId,
      group,
      status: succeeded ? ExecutionStatus.success : groupStatus(ended),
    });
    return succeeded;
  }

  async #runRelease(plan: RunPlan, signal: AbortSignal): Promise<boolean> {
    if (!plan.release.enabled) return true;
    const messages = releaseMessages(
      this.#source(this.#options.jobTimeouts.release),
      plan.release.projects,
    );
    if (!this.#options.releases) {
      const reason = `release of ${plan.release.projects.join(', ')} skipped: no release worker pool runs here`;
      await this.#recordNotRun(messages, reason);
      this.#releaseSkipped = reason;
      this.#emit({ type: 'release-skipped', runId: this.#runId, reason });
      return true;
    }
    const ended = await Promise.all(
      messages.map(async (message, index) => {
        const { record, error } = await this.#dispatch(message, signal);
        const project = plan.release.projects[index] ?? message.job_id;
        const status =
          record === undefined ? ExecutionStatus.skipped : executionStatusOfJob(record);
        const outcome: ReleaseOutcome = { project, status, record };
        if (status !== ExecutionStatus.success) {
          this.#fail({
            jobId: message.job_id,
            project,
            message: `release of ${project} did not complete: ${record?.error ?? reasonOf(error, signal)}`,
          });
        }
        this.#release.push(outcome);
        this.#emit({ type: 'release-ended', runId: this.#runId, outcome });
        return outcome;
      }),
    );
    return ended.every((outcome) => outcome.status === ExecutionStatus.success);
  }

  /**
   * Records release jobs this plane cannot run as cancelled before they started (skipped),
   * with the reason, so that every reader of the job table (the reconciler, the jobs API)
   * sees why the release stage did not run instead of a release waiting forever.
   */
  async #recordNotRun(messages: readonly JobMessage[], reason: string): Promise<void> {
    const { jobs } = this.#options.plane;
    for (const message of messages) {
      await jobs.create({ job_id: message.job_id, run_id: message.run_id, type: message.type });
      await jobs.transition(message.job_id, JobStatus.cancelled, { error: reason });
    }
  }

  /**
   * One job through the dispatcher's logic. When `signal` aborts, the dispatcher requests the
   * job's cancellation; the engine then waits (bounded) for the worker to record its end, so
   * the outcome says what really happened to the job.
   */
  async #dispatch(message: JobMessage, signal: AbortSignal): Promise<Dispatched> {
    const { plane, pollInterval, logger, deadlineGraceMs } = this.#options;
    try {
      const record = await dispatchJob({
        jobs: plane.jobs,
        queue: plane.queues[queueForJobType(message.type)],
        message,
        deadline: new Date(Date.parse(message.deadline) + deadlineGraceMs),
        pollInterval,
        changes: plane.jobChanges,
        signal,
        logger,
        now: this.#options.now,
      });
      return { record };
    } catch (error) {
      return { record: await this.#settled(message.job_id), error };
    }
  }

  /** The job's record once terminal, or its last record when the stop wait runs out. */
  async #settled(jobId: string): Promise<JobRecord | undefined> {
    const { plane, stopWaitMs, pollInterval } = this.#options;
    const giveUpAt = Date.now() + stopWaitMs;
    const wait = new JobStatusWait(jobId, plane.jobChanges);
    for (;;) {
      let record: JobRecord | undefined;
      try {
        record = await plane.jobs.get(jobId);
      } catch {
        record = undefined;
      }
      const remainingMs = giveUpAt - Date.now();
      if (record === undefined || isTerminalJobStatus(record.status) || remainingMs <= 0) {
        return record;
      }
      await wait.pause(record, Math.min(pollInterval.maxMs, remainingMs));
    }
  }

  #record(task: PlannedTask, record: JobRecord | undefined): TaskOutcome {
    const status = record === undefined ? ExecutionStatus.skipped : executionStatusOfJob(record);
    const outcome: TaskOutcome = { task, status, record };
    this.#outcomes.set(task.jobId, outcome);
    this.#emit({ type: 'task-ended', runId: this.#runId, outcome });
    return outcome;
  }

  #skip(tasks: readonly PlannedTask[]): void {
    for (const task of tasks) this.#record(task, undefined);
  }

  #failTask(
    task: PlannedTask,
    record: JobRecord | undefined,
    error: unknown,
    signal: AbortSignal,
  ): void {
    const step = record === undefined ? undefined : firstFailedStep(record);
    const reason = record?.error ?? reasonOf(error, signal);
    this.#fail({
      jobId: task.jobId,
      phase: task.phase,
      project: task.project,
      step,
      message:
        step === undefined
          ? `${task.phase}/${task.project}: ${reason}`
          : `step ${step} of ${task.phase}/${task.project} failed: ${reason}`,
    });
  }

  /** Keeps the first failure: later ones are consequences of the fail-fast stop. */
  #fail(failure: RunFailure): void {
    this.#failure ??= failure;
  }

  #failIfUnexplained(signal: AbortSignal, message: string): void {
    this.#fail({ message: signal.aborted ? reasonOf(undefined, signal) : message });
  }

  #source(timeoutSeconds: number): JobSource {
    const { run, deadline, now } = this.#options;
    const jobDeadline = Math.min(deadline.getTime(), now().getTime() + timeoutSeconds * 1000);
    return {
      runId: run.runId,
      repository: run.repository,
      cloneUrl: run.cloneUrl,
      commit: run.commit,
      branch: run.branch,
      tag: run.tag,
      deadline: new Date(jobDeadline),
    };
  }

  #deadlineSignal(): AbortSignal {
    const remaining = Math.max(0, this.#options.deadline.getTime() - this.#options.now().getTime());
    // Beyond setTimeout's range the deadline cannot come within the process's life anyway.
    return AbortSignal.timeout(Math.min(remaining, 2 ** 31 - 1));
  }

  #outcome(status: TerminalRunStatus): RunOutcome {
    const tasks = (this.#plan?.groups ?? []).flatMap((group) =>
      group.tasks.map(
        (task) => this.#outcomes.get(task.jobId) ?? { task, status: ExecutionStatus.skipped },
      ),
    );
    return {
      runId: this.#runId,
      status,
      startedAt: this.#startedAt,
      completedAt: this.#options.now(),
      discovery: this.#discovery,
      plan: this.#plan,
      tasks,
      release: [...this.#release],
      releaseSkipped: this.#releaseSkipped,
      failure: status === RunStatus.success ? undefined : this.#failure,
    };
  }

  #emit(event: EngineEvent): void {
    try {
      this.#options.onEvent(event);
    } catch (error) {
      this.#options.logger.warn('an engine observer failed', { error: errorMessage(error) });
    }
  }
}

function groupStatus(outcomes: readonly TaskOutcome[]) {
  return outcomes.some((outcome) => outcome.status === ExecutionStatus.failed)
    ? ExecutionStatus.failed
    : ExecutionStatus.cancelled;
}

function reasonOf(error: unknown, signal: AbortSignal): string {
  if (error instanceof DispatchAbortedError || (error === undefined && signal.aborted)) {
    const reason: unknown = signal.reason;
    if (reason instanceof DOMException && reason.name === 'TimeoutError') {
      return 'the run passed its deadline';
    }
    return `stopped: ${errorMessage(reason ?? 'aborted')}`;
  }
  return error === undefined ? 'no reason was recorded' : errorMessage(error);
}
