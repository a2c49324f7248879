import type { DiscoveryOutput } from '../contracts/discovery-output.js';
import {
  ExecutionStatus,
  isTerminalExecutionStatus,
  isTerminalRunStatus,
  type RunStatus,
} from '../statuses.js';
import {
  transitionExecution,
  transitionRun,
  TransitionOutcome,
  type TransitionResult,
} from '../transitions.js';
import { materialiseDiscovery } from './materialise-discovery.js';
import {
  ProgressEntity,
  type ExecutionFields,
  type RunProgressChanges,
  type StatusChange,
  type StepFields,
} from './progress-changes.js';
import { RowSet, type Mutable } from './row-set.js';
import { ExecutionNotFoundError } from './run-progress-errors.js';
import {
  stepKey,
  type PhaseState,
  type ReleaseState,
  type RunSnapshot,
  type RunState,
  type StepState,
  type TaskState,
} from './run-snapshot.js';

/**
 * A run's progress being changed in memory: loaded from a {@link RunSnapshot}, changed only
 * through the core transition rules (a terminal status never changes, late updates are
 * ignored), then written back from {@link RunProgressDraft.changes}. Every applied status
 * change is recorded with its actor for the audit log. Times are only filled in, never moved,
 * except the run's completion time, which {@link RunProgressDraft.correctRunCompletion} may
 * move earlier when a failure that happened earlier is learnt later.
 */
export class RunProgressDraft {
  readonly now: string;
  readonly #run: Mutable<RunState>;
  #runChanged = false;
  readonly #phases: RowSet<PhaseState>;
  readonly #tasks: RowSet<TaskState>;
  readonly #steps: RowSet<StepState>;
  readonly #releases: RowSet<ReleaseState>;
  readonly #changes: StatusChange[] = [];
  /** The discovery output the plan was made from, when it was made in this draft. */
  #discoveryOutput: DiscoveryOutput | undefined;
  /** The rows in plan order; the same row objects, so it only changes when rows are added. */
  #ordered: OrderedRows | undefined;

  constructor(snapshot: RunSnapshot, options: { readonly now: Date }) {
    this.now = options.now.toISOString();
    this.#run = { ...snapshot.run };
    this.#phases = new RowSet(snapshot.phases, (phase) => phase.name);
    this.#tasks = new RowSet(snapshot.tasks, (task) => task.jobId);
    this.#steps = new RowSet(snapshot.steps, (step) => stepKey(step.jobId, step.name));
    this.#releases = new RowSet(snapshot.releases, (release) => release.jobId);
  }

  get run(): RunState {
    return this.#run;
  }

  /** Whether the run's plan exists: discovery completed and its executions were created. */
  get materialised(): boolean {
    return this.#run.materialised;
  }

  /** Phases in plan order: by group, then name. */
  phases(): readonly PhaseState[] {
    return this.#orderedRows().phases;
  }

  /** Tasks in plan order: by group, phase, then project path. */
  tasks(): readonly TaskState[] {
    return this.#orderedRows().tasks;
  }

  /** The steps of one task, in discovery order. */
  stepsOf(jobId: string): readonly StepState[] {
    return this.#orderedRows().stepsByJob.get(jobId) ?? [];
  }

  /** Releases by project. */
  releases(): readonly ReleaseState[] {
    return this.#orderedRows().releases;
  }

  task(jobId: string): TaskState | undefined {
    return this.#tasks.rows.get(jobId);
  }

  /** The task with database id `id`; throws {@link ExecutionNotFoundError}. */
  taskById(id: string): TaskState {
    const task = [...this.#tasks.rows.values()].find((row) => row.id === id);
    if (task === undefined) throw new ExecutionNotFoundError('task', id);
    return task;
  }

  /** The step with database id `id`; throws {@link ExecutionNotFoundError}. */
  stepById(id: string): StepState {
    const step = [...this.#steps.rows.values()].find((row) => row.id === id);
    if (step === undefined) throw new ExecutionNotFoundError('step', id);
    return step;
  }

  step(jobId: string, name: string): StepState | undefined {
    return this.#steps.rows.get(stepKey(jobId, name));
  }

  release(jobId: string): ReleaseState | undefined {
    return this.#releases.rows.get(jobId);
  }

  /**
   * Creates the run's phases, tasks, steps and releases from its discovery output, once: a
   * run that already has its plan keeps it. Returns whether anything was created.
   */
  materialise(output: DiscoveryOutput, discoveredAt: string | null): boolean {
    if (this.materialised) return false;
    const plan = materialiseDiscovery(this.#run.id, output);
    for (const phase of plan.phases) this.#phases.insert(phase.name, phase);
    for (const task of plan.tasks) this.#tasks.insert(task.jobId, task);
    for (const step of plan.steps) this.#steps.insert(stepKey(step.jobId, step.name), step);
    for (const release of plan.releases) this.#releases.insert(release.jobId, release);
    this.#ordered = undefined;
    this.#run.materialised = true;
    this.#discoveryOutput = output;
    this.#run.discoveredAt ??= discoveredAt;
    this.#runChanged = true;
    return true;
  }

  /** Records when discovery completed, once (a plan may be created before that is known). */
  recordDiscoveredAt(discoveredAt: string): void {
    if (this.#run.discoveredAt !== null) return;
    this.#run.discoveredAt = discoveredAt;
    this.#runChanged = true;
  }

  /**
   * Moves the run to `status` under `transitionRun`. Reaching a terminal status stamps
   * `completedAt` (the given time, else now) and keeps the first `error` given.
   */
  changeRun(
    status: RunStatus,
    fields: ExecutionFields,
    actor: string,
    details: Record<string, unknown> = {},
  ): TransitionResult<RunStatus> {
    const run = this.#run;
    const decision = transitionRun(run.status, status);
    if (decision.outcome !== TransitionOutcome.applied) return decision;
    this.#record(ProgressEntity.run, run.id, run.status, status, actor, details);
    run.status = status;
    if (isTerminalRunStatus(status)) {
      run.completedAt = fields.completedAt ?? this.now;
      run.error ??= fields.error ?? null;
    }
    this.#runChanged = true;
    return decision;
  }

  /** Moves the run's completion time earlier, with the reason that goes with it. */
  correctRunCompletion(completedAt: string, error: string | null): void {
    const run = this.#run;
    if (run.completedAt === null || completedAt >= run.completedAt) return;
    run.completedAt = completedAt;
    if (error !== null) run.error = error;
    this.#runChanged = true;
  }

  /** Moves a phase's start time earlier, when a task that started earlier is learnt later. */
  correctPhaseStart(name: string, startedAt: string): void {
    this.#movePhaseTimeEarlier(name, 'startedAt', startedAt);
  }

  /** Moves a phase's completion time earlier, when an earlier failure is learnt later. */
  correctPhaseCompletion(name: string, completedAt: string): void {
    this.#movePhaseTimeEarlier(name, 'completedAt', completedAt);
  }

  #movePhaseTimeEarlier(name: string, field: 'startedAt' | 'completedAt', time: string): void {
    const phase = this.#phases.rows.get(name);
    const current = phase?.[field];
    if (phase === undefined || current === null || current === undefined || time >= current) {
      return;
    }
    phase[field] = time;
    this.#phases.changed.add(name);
  }

  changePhase(
    name: string,
    status: ExecutionStatus,
    fields: ExecutionFields,
    actor: string,
  ): TransitionResult<ExecutionStatus> {
    return this.#changeExecution(ProgressEntity.phase, this.#phases, name, status, fields, actor);
  }

  changeTask(
    jobId: string,
    status: ExecutionStatus,
    fields: ExecutionFields,
    actor: string,
    details: Record<string, unknown> = {},
  ): TransitionResult<ExecutionStatus> {
    return this.#changeExecution(
      ProgressEntity.task,
      this.#tasks,
      jobId,
      status,
      fields,
      actor,
      details,
    );
  }

  changeStep(
    jobId: string,
    name: string,
    status: ExecutionStatus,
    fields: StepFields,
    actor: string,
    details: Record<string, unknown> = {},
  ): TransitionResult<ExecutionStatus> {
    const key = stepKey(jobId, name);
    const result = this.#changeExecution(
      ProgressEntity.step,
      this.#steps,
      key,
      status,
      fields,
      actor,
      details,
    );
    if (result.outcome === TransitionOutcome.ignored) return result;
    const step = this.#steps.rows.get(key) as Mutable<StepState>;
    const filled = fillNulls(step, { exitCode: fields.exitCode, logsKey: fields.logsKey });
    if (filled) this.#steps.changed.add(key);
    return result;
  }

  changeRelease(
    jobId: string,
    status: ExecutionStatus,
    fields: ExecutionFields,
    actor: string,
  ): TransitionResult<ExecutionStatus> {
    return this.#changeExecution(
      ProgressEntity.release,
      this.#releases,
      jobId,
      status,
      fields,
      actor,
    );
  }

  /** What changed since loading, for the writer. */
  changes(): RunProgressChanges {
    return {
      run: { ...this.#run },
      runChanged: this.#runChanged,
      discoveryOutput: this.#discoveryOutput,
      inserted: {
        phases: this.#phases.insertedRows(),
        tasks: this.#tasks.insertedRows(),
        steps: this.#steps.insertedRows(),
        releases: this.#releases.insertedRows(),
      },
      updated: {
        phases: this.#phases.changedRows(),
        tasks: this.#tasks.changedRows(),
        steps: this.#steps.changedRows(),
        releases: this.#releases.changedRows(),
      },
      statusChanges: [...this.#changes],
    };
  }

  #orderedRows(): OrderedRows {
    this.#ordered ??= {
      phases: [...this.#phases.rows.values()].sort(
        (left, right) => left.group - right.group || compare(left.name, right.name),
      ),
      tasks: [...this.#tasks.rows.values()].sort(
        (left, right) =>
          left.group - right.group ||
          compare(left.phase, right.phase) ||
          compare(left.projectPath, right.projectPath),
      ),
      stepsByJob: stepsByJob(this.#steps.rows.values()),
      releases: [...this.#releases.rows.values()].sort((left, right) =>
        compare(left.project, right.project),
      ),
    };
    return this.#ordered;
  }

  /**
   * Applies a status change to a phase, task, step or release. An applied change stamps
   * `startedAt` when it starts (and keeps an earlier one), `completedAt` when it ends (not for
   * `skipped`, which never ran, unless given); an unchanged one only fills fields still empty.
   */
  #changeExecution<T extends PhaseState | TaskState | StepState | ReleaseState>(
    entity: ProgressEntity,
    rows: RowSet<T>,
    key: string,
    status: ExecutionStatus,
    fields: ExecutionFields,
    actor: string,
    details: Record<string, unknown> = {},
  ): TransitionResult<ExecutionStatus> {
    const row = rows.rows.get(key);
    if (row === undefined) throw new ExecutionNotFoundError(asNotFoundEntity(entity), key);
    const decision = transitionExecution(row.status, status);
    if (decision.outcome === TransitionOutcome.ignored) return decision;
    if (decision.outcome === TransitionOutcome.applied) {
      this.#record(entity, key, row.status, status, actor, details);
      row.status = status;
      rows.changed.add(key);
      if (status === ExecutionStatus.running) {
        row.startedAt ??= fields.startedAt ?? this.now;
      } else if (status === ExecutionStatus.skipped) {
        row.completedAt ??= fields.completedAt ?? null;
      } else if (isTerminalExecutionStatus(status)) {
        row.startedAt ??= fields.startedAt ?? null;
        row.completedAt ??= fields.completedAt ?? this.now;
      }
    }
    const withError = row as Partial<Mutable<TaskState>>;
    const filled = fillNulls(row, {
      startedAt: hasStarted(row.status) ? fields.startedAt : undefined,
      completedAt: isTerminalExecutionStatus(row.status) ? fields.completedAt : undefined,
      ...('error' in withError ? { error: fields.error } : {}),
    });
    if (filled) rows.changed.add(key);
    return decision;
  }

  #record(
    entity: ProgressEntity,
    key: string,
    from: string,
    to: string,
    actor: string,
    details: Record<string, unknown>,
  ): void {
    this.#changes.push({ entity, key, from, to, actor, details });
  }
}

interface OrderedRows {
  readonly phases: readonly PhaseState[];
  readonly tasks: readonly TaskState[];
  readonly stepsByJob: ReadonlyMap<string, readonly StepState[]>;
  readonly releases: readonly ReleaseState[];
}

/** Steps grouped by their task's job id, each group in discovery order. */
function stepsByJob(steps: Iterable<StepState>): Map<string, StepState[]> {
  const byJob = new Map<string, StepState[]>();
  for (const step of steps) {
    const group = byJob.get(step.jobId);
    if (group === undefined) byJob.set(step.jobId, [step]);
    else group.push(step);
  }
  for (const group of byJob.values()) group.sort((left, right) => left.position - right.position);
  return byJob;
}

/** Sets each given, non-null value whose field is still `null`; returns whether any was set. */
function fillNulls(row: object, values: Record<string, unknown>): boolean {
  const target = row as Record<string, unknown>;
  let filled = false;
  for (const [field, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    if (target[field] !== null && target[field] !== undefined) continue;
    target[field] = value;
    filled = true;
  }
  return filled;
}

function hasStarted(status: ExecutionStatus): boolean {
  return status !== ExecutionStatus.pending && status !== ExecutionStatus.skipped;
}

function asNotFoundEntity(entity: ProgressEntity): 'task' | 'step' | 'release' {
  return entity === ProgressEntity.step || entity === ProgressEntity.release ? entity : 'task';
}

function compare(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
