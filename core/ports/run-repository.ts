import type {
  CreateRunRequest,
  GitHubContext,
  TriggerType,
  UpdateExecutionStatusRequest,
} from '../contracts/api.js';
import type { DiscoveryOutput } from '../contracts/discovery-output.js';
import type { StatusPoint } from '../contracts/status-events.js';
import type { ProgressEntity } from '../run-progress/progress-changes.js';
import type { RunProgressDraft } from '../run-progress/run-progress-draft.js';
import type { StepAction } from '../run-progress/run-snapshot.js';
import type { ExecutionStatus, RunStatus } from '../statuses.js';
import type { TransitionResult } from '../transitions.js';
import type { StatusEventSink } from './status-event-sink.js';

/** A repository allowed to run pipelines. */
export interface RegisteredRepository {
  readonly id: string;
  /** `owner/name`. */
  readonly fullName: string;
  /** Where workers clone it from. */
  readonly cloneUrl: string;
  readonly createdAt: string;
}

/** A run to create: the validated `POST /v1/runs` body and who asked for it. */
export interface NewRun extends CreateRunRequest {
  /** The caller, for the run and the audit log (e.g. the OIDC token's `actor`). */
  readonly triggeredBy: string;
}

/** A pipeline run's own fields (times are ISO-8601 texts in UTC). */
export interface PipelineRun {
  readonly id: string;
  readonly repository: string;
  readonly cloneUrl: string;
  readonly branch: string | null;
  readonly tag: string | null;
  readonly commitSha: string;
  readonly triggeredBy: string;
  readonly triggerType: TriggerType;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly discoveredAt: string | null;
  readonly workflowName: string | null;
  readonly githubContext: GitHubContext;
  /** Why the run failed or was cancelled. */
  readonly error: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One step of a task. */
export interface StepExecution {
  readonly id: string;
  readonly name: string;
  readonly position: number;
  readonly action: StepAction;
  readonly target: string | null;
  readonly run: string | null;
  readonly status: ExecutionStatus;
  readonly exitCode: number | null;
  /** Key of the step's log in the logs bucket. */
  readonly logsKey: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
}

/** One project's steps for one phase. */
export interface TaskExecution {
  readonly id: string;
  readonly jobId: string;
  readonly project: string;
  readonly projectPath: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
  readonly steps: readonly StepExecution[];
}

/** One phase of a run, with its tasks. */
export interface PhaseExecution {
  readonly id: string;
  readonly name: string;
  readonly group: number;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly tasks: readonly TaskExecution[];
}

/** One project's release job. */
export interface ReleaseExecution {
  readonly id: string;
  readonly jobId: string;
  readonly project: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
}

/** A run with everything below it: phases → tasks → steps (plan order), and releases. */
export interface RunDetail extends PipelineRun {
  readonly discoveryOutput: DiscoveryOutput | null;
  readonly phases: readonly PhaseExecution[];
  readonly releases: readonly ReleaseExecution[];
}

/** The outcome of an idempotent creation: the new run, or the one the commit already has. */
export interface CreateRunResult {
  readonly created: boolean;
  readonly run: PipelineRun;
}

/** What {@link RunRepository.recordSubmission} did with the run's queued status events. */
export interface SubmissionRecord {
  /** Events the sink accepted. */
  readonly sent: number;
  /** Why they were not all sent and forgotten, when so; those not forgotten are sent later. */
  readonly sendFailure?: unknown;
}

/** Which runs to list, newest first. */
export interface RunListQuery {
  readonly repository?: string | undefined;
  readonly branch?: string | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** A page of runs, and how many match in all. */
export interface RunList {
  readonly runs: readonly PipelineRun[];
  readonly total: number;
}

/** One entry of the append-only audit log. */
export interface AuditEntry {
  /** Increasing with each entry. */
  readonly id: number;
  readonly entityType: ProgressEntity | 'repository';
  readonly entityId: string;
  readonly runId: string | null;
  readonly fromStatus: string | null;
  readonly toStatus: string;
  readonly actor: string;
  readonly at: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** What a progress change did: its own result, the run after it, the status points crossed. */
export interface ProgressUpdate<T> {
  readonly result: T;
  readonly runStatus: RunStatus;
  readonly points: readonly StatusPoint[];
}

/** The outcome of a requested task or step status change, and the run it belongs to. */
export interface ExecutionStatusUpdate {
  readonly runId: string;
  readonly transition: TransitionResult<ExecutionStatus>;
  /** The execution's status after the request (its old one when ignored). */
  readonly status: ExecutionStatus;
  readonly runStatus: RunStatus;
}

/**
 * What the reconciler needs: change a run's progress in one transaction, and send the status
 * events those changes produced.
 */
export interface RunProgressStore {
  /**
   * Runs `change` on the run's progress inside one transaction that holds the run's row lock,
   * derives what follows (phase and run statuses, skipped executions) by the core rules,
   * writes every change with its audit entries, and queues a status event for each status
   * point crossed. `change` must be pure: it may run again. Throws `RunNotFoundError`.
   */
  updateProgress<T>(
    runId: string,
    change: (draft: RunProgressDraft) => T,
  ): Promise<ProgressUpdate<T>>;
  /**
   * Sends the queued status events (of one run, or all) to `sink` in sequence order, and
   * forgets them once it accepted them; returns how many were sent. Events that fail to send
   * stay queued for the next call, so delivery is at least once.
   */
  flushStatusEvents(sink: StatusEventSink, runId?: string): Promise<number>;
}

/**
 * Where runs live (Postgres; DESIGN.md section 5): repositories, runs with their phases, tasks,
 * steps and releases, and the audit log. Every status change goes through the core transition
 * rules, so a terminal status never changes and a late update never moves anything backwards.
 */
export interface RunRepository extends RunProgressStore {
  /** Registers a repository, or updates the clone URL of a registered one. */
  registerRepository(fullName: string, cloneUrl: string): Promise<RegisteredRepository>;
  getRepository(fullName: string): Promise<RegisteredRepository | undefined>;
  /**
   * Creates a run for a commit, idempotently on (repository, commit): a second request for the
   * same commit, even a concurrent one, returns the existing run with `created: false`. A new
   * run is `pending`, audited, and its `created` status event is queued. Throws
   * `RepositoryNotRegisteredError`.
   */
  createRun(run: NewRun): Promise<CreateRunResult>;
  /** The run with everything below it; `undefined` for an unknown (or malformed) id. */
  getRun(runId: string): Promise<RunDetail | undefined>;
  /** Runs newest first, filtered by repository and branch. */
  listRuns(query: RunListQuery): Promise<RunList>;
  /**
   * Records the workflow the engine submitted for the run, then sends the run's queued status
   * events (their links name that workflow) as {@link RunRepository.flushStatusEvents} does.
   * A sink that fails leaves the events queued, and is reported rather than thrown, as is any
   * failure after the name was recorded. Throws `RunNotFoundError`.
   */
  recordSubmission(
    runId: string,
    workflowName: string,
    sink: StatusEventSink,
  ): Promise<SubmissionRecord>;
  /** `PUT /v1/tasks/{id}/status`; throws `ExecutionNotFoundError` for an unknown task. */
  updateTaskStatus(
    taskId: string,
    update: UpdateExecutionStatusRequest,
    actor: string,
  ): Promise<ExecutionStatusUpdate>;
  /** `PUT /v1/steps/{id}/status`; throws `ExecutionNotFoundError` for an unknown step. */
  updateStepStatus(
    stepId: string,
    update: UpdateExecutionStatusRequest,
    actor: string,
  ): Promise<ExecutionStatusUpdate>;
  /**
   * Moves the run itself by the transition rules (a workflow engine reporting that the run hit
   * its deadline, say), with the reason; what follows is derived as for any change.
   */
  updateRunStatus(
    runId: string,
    status: RunStatus,
    actor: string,
    reason?: string,
  ): Promise<ProgressUpdate<TransitionResult<RunStatus>>>;
  /**
   * Cancels a run and stops everything in it that has not ended (DESIGN.md section 5); a run
   * that has ended is left as it is, and the result says so.
   */
  cancelRun(
    runId: string,
    actor: string,
    reason?: string,
  ): Promise<ProgressUpdate<TransitionResult<RunStatus>>>;
  /**
   * Cancels, as {@link RunRepository.cancelRun} does, every run that has not ended, oldest
   * first, and answers the ids of those it cancelled. For an engine that keeps its runs in
   * memory: after a restart, the runs a previous process left going would never end.
   */
  cancelUnfinishedRuns(actor: string, reason: string): Promise<readonly string[]>;
  /** The run's audit trail, oldest first. */
  auditTrail(runId: string): Promise<readonly AuditEntry[]>;
}
