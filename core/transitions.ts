import { assertNever } from './assert-never.js';
import { ForgeError } from './errors.js';
import {
  ExecutionStatus,
  JobStatus,
  RunStatus,
  isTerminalExecutionStatus,
  isTerminalJobStatus,
  isTerminalRunStatus,
} from './statuses.js';

/** What became of a requested status change. */
export const TransitionOutcome = {
  /** The new status is valid: write it. */
  applied: 'applied',
  /** The entity already has that status (a duplicate update): nothing to write, no error. */
  unchanged: 'unchanged',
  /** The update must not be written; see {@link IgnoredReason}. */
  ignored: 'ignored',
} as const;
/** One of {@link TransitionOutcome}. */
export type TransitionOutcome = (typeof TransitionOutcome)[keyof typeof TransitionOutcome];

/** Why a status change was ignored. */
export const IgnoredReason = {
  /** The entity has ended; a terminal status never changes again. */
  terminal: 'terminal',
  /** The update is behind the current status (it arrived late): never applied backwards. */
  stale: 'stale',
  /** The change makes no sense for this entity, such as a running step becoming `skipped`. */
  invalid: 'invalid',
} as const;
/** One of {@link IgnoredReason}. */
export type IgnoredReason = (typeof IgnoredReason)[keyof typeof IgnoredReason];

/** The decision of a transition function; writers persist `status` only when `applied`. */
export type TransitionResult<S extends string> =
  | { readonly outcome: typeof TransitionOutcome.applied; readonly status: S }
  | { readonly outcome: typeof TransitionOutcome.unchanged }
  | { readonly outcome: typeof TransitionOutcome.ignored; readonly reason: IgnoredReason };

/** A transition that {@link assertTransition} let through. */
export type AcceptedTransition<S extends string> = Exclude<
  TransitionResult<S>,
  { readonly outcome: typeof TransitionOutcome.ignored }
>;

/** The kinds of entity whose status goes through these rules, for messages and errors. */
export const StatusEntity = {
  run: 'run',
  phase: 'phase',
  task: 'task',
  step: 'step',
  job: 'job',
} as const;
/** One of {@link StatusEntity}. */
export type StatusEntity = (typeof StatusEntity)[keyof typeof StatusEntity];

/** The status type of each {@link StatusEntity}. */
export interface StatusOfEntity {
  run: RunStatus;
  phase: ExecutionStatus;
  task: ExecutionStatus;
  step: ExecutionStatus;
  job: JobStatus;
}

/**
 * The rules of one status machine. `rank` orders progress (terminal statuses share the top
 * rank, so they can be reached from any earlier status: updates may arrive out of order);
 * `onlyFrom` restricts a status to the statuses that may precede it.
 */
interface TransitionRules<S extends string> {
  readonly rank: Readonly<Record<S, number>>;
  readonly isTerminal: (status: S) => boolean;
  readonly onlyFrom: Partial<Readonly<Record<S, readonly S[]>>>;
}

const runRules: TransitionRules<RunStatus> = {
  rank: {
    [RunStatus.pending]: 0,
    [RunStatus.discovering]: 1,
    [RunStatus.running]: 2,
    [RunStatus.success]: 3,
    [RunStatus.failed]: 3,
    [RunStatus.cancelled]: 3,
  },
  isTerminal: isTerminalRunStatus,
  onlyFrom: {},
};

const executionRules: TransitionRules<ExecutionStatus> = {
  rank: {
    [ExecutionStatus.pending]: 0,
    [ExecutionStatus.running]: 1,
    [ExecutionStatus.success]: 2,
    [ExecutionStatus.failed]: 2,
    [ExecutionStatus.cancelled]: 2,
    [ExecutionStatus.skipped]: 2,
  },
  isTerminal: isTerminalExecutionStatus,
  // Skipped means "never started": something that ran ends as success, failed or cancelled.
  onlyFrom: { [ExecutionStatus.skipped]: [ExecutionStatus.pending] },
};

const jobRules: TransitionRules<JobStatus> = {
  rank: {
    [JobStatus.pending]: 0,
    [JobStatus.running]: 1,
    [JobStatus.completed]: 2,
    [JobStatus.failed]: 2,
    [JobStatus.cancelled]: 2,
  },
  isTerminal: isTerminalJobStatus,
  onlyFrom: {},
};

const rulesByEntity: { readonly [E in StatusEntity]: TransitionRules<StatusOfEntity[E]> } = {
  run: runRules,
  phase: executionRules,
  task: executionRules,
  step: executionRules,
  job: jobRules,
};

const unchanged = { outcome: TransitionOutcome.unchanged } as const;

function decide<S extends string>(
  rules: TransitionRules<S>,
  current: S,
  requested: S,
): TransitionResult<S> {
  if (current === requested) return unchanged;
  if (rules.isTerminal(current)) return { outcome: 'ignored', reason: IgnoredReason.terminal };
  const allowedPredecessors = rules.onlyFrom[requested];
  if (allowedPredecessors !== undefined && !allowedPredecessors.includes(current)) {
    return { outcome: 'ignored', reason: IgnoredReason.invalid };
  }
  if (rules.rank[requested] < rules.rank[current]) {
    return { outcome: 'ignored', reason: IgnoredReason.stale };
  }
  return { outcome: 'applied', status: requested };
}

/** Decides whether a run may move from `current` to `requested` (DESIGN.md section 5). */
export function transitionRun(
  current: RunStatus,
  requested: RunStatus,
): TransitionResult<RunStatus> {
  return decide(runRules, current, requested);
}

/**
 * Decides whether a phase, task or step may move from `current` to `requested`; the three
 * share one machine, in which `skipped` may only follow `pending`.
 */
export function transitionExecution(
  current: ExecutionStatus,
  requested: ExecutionStatus,
): TransitionResult<ExecutionStatus> {
  return decide(executionRules, current, requested);
}

/** Decides whether a job in the `pipeline-jobs` table may move from `current` to `requested`. */
export function transitionJob(
  current: JobStatus,
  requested: JobStatus,
): TransitionResult<JobStatus> {
  return decide(jobRules, current, requested);
}

/** Decides a status change for any {@link StatusEntity}, for writers that handle several. */
export function transitionStatus<E extends StatusEntity>(
  entity: E,
  current: StatusOfEntity[E],
  requested: StatusOfEntity[E],
): TransitionResult<StatusOfEntity[E]> {
  return decide(rulesByEntity[entity], current, requested);
}

/**
 * Raised by {@link assertTransition} when a status change is refused. Never retryable: the
 * same request will be refused again. API handlers answer it with `409 conflict`.
 */
export class StatusTransitionError extends ForgeError {
  /** The kind of entity whose status was to change. */
  readonly entity: StatusEntity;
  /** Its status at the time. */
  readonly from: string;
  /** The refused status. */
  readonly to: string;
  /** Why the change was refused. */
  readonly reason: IgnoredReason;

  constructor(entity: StatusEntity, from: string, to: string, reason: IgnoredReason) {
    super(`${entity} status cannot change from ${from} to ${to}: ${describe(reason)}`, {
      retryable: false,
    });
    this.entity = entity;
    this.from = from;
    this.to = to;
    this.reason = reason;
  }
}

/**
 * Like {@link transitionStatus}, for writers that must refuse rather than silently ignore
 * (an explicit cancel, an engine decision): returns an applied or unchanged result, and throws
 * a {@link StatusTransitionError} for anything ignored.
 */
export function assertTransition<E extends StatusEntity>(
  entity: E,
  current: StatusOfEntity[E],
  requested: StatusOfEntity[E],
): AcceptedTransition<StatusOfEntity[E]> {
  const result = transitionStatus(entity, current, requested);
  if (result.outcome === TransitionOutcome.ignored) {
    throw new StatusTransitionError(entity, current, requested, result.reason);
  }
  return result;
}

function describe(reason: IgnoredReason): string {
  switch (reason) {
    case IgnoredReason.terminal:
      return 'it has already ended';
    case IgnoredReason.stale:
      return 'that would move it backwards';
    case IgnoredReason.invalid:
      return 'that change is not allowed';
    default:
      return assertNever(reason, 'ignored reason');
  }
}
