import { ForgeError } from '../errors.js';

/**
 * The root of the errors of run persistence and progress (the run repository, the
 * reconciler's rules). Adapters translate their driver's errors into these, so the API and the
 * reconciler branch on them without knowing the database.
 */
export class RunProgressError extends ForgeError {}

/** No run has this id (or the id is not a run id at all). */
export class RunNotFoundError extends RunProgressError {
  constructor(readonly runId: string) {
    super(`run ${runId} not found`);
  }
}

/** A run was asked for a repository that was never registered. */
export class RepositoryNotRegisteredError extends RunProgressError {
  constructor(readonly repository: string) {
    super(`repository ${repository} is not registered`);
  }
}

/** No task, step or release execution has this id (or job id) in the run. */
export class ExecutionNotFoundError extends RunProgressError {
  constructor(
    readonly entity: 'task' | 'step' | 'release',
    readonly key: string,
  ) {
    super(`${entity} ${key} not found`);
  }
}

/**
 * A change needs the run's plan, and the run has not been discovered yet: the discovery output
 * must be handed in. Retryable: the output arrives with discovery.
 */
export class RunNotDiscoveredError extends RunProgressError {
  constructor(readonly runId: string) {
    super(`run ${runId} has not been discovered yet`, { retryable: true });
  }
}

/** The discovery output cannot be read or does not hold a valid plan. */
export class DiscoveryResultError extends RunProgressError {}

/**
 * The database could not be reached or refused an operation for a reason outside this
 * product's rules; `retryable` says whether trying again may help.
 */
export class RunStoreOperationError extends RunProgressError {
  constructor(
    readonly operation: string,
    reason: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(`${operation} failed: ${reason}`, options);
  }
}
