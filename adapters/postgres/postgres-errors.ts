import { ForgeError } from '../../core/errors.js';
import {
  RunProgressError,
  RunStoreOperationError,
} from '../../core/run-progress/run-progress-errors.js';

/** The embedded Postgres server could not be prepared, started or stopped. */
export class EmbeddedPostgresError extends RunProgressError {}

/** A migration that was applied before has been edited since: the schema cannot be trusted. */
export class MigrationChecksumError extends RunProgressError {
  constructor(
    readonly version: number,
    readonly migrationName: string,
  ) {
    super(
      `migration ${version} (${migrationName}) differs from the one applied to this database; ` +
        'migrations must never change once released: add a new one instead',
    );
  }
}

/** SQLSTATE classes after which the same statement may well succeed. */
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '40', '53', '57P'];

/** Network failures of the driver's connection. */
const TRANSIENT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * Translates what the `postgres` driver threw into a core error naming the operation: a lost
 * connection, a serialization failure, a deadlock or an overloaded server is retryable;
 * anything else (a constraint, a bad statement) is not. This product's own errors (a rule that
 * refused a change inside a transaction) pass through unchanged.
 */
export function toRunStoreError(operation: string, error: unknown): Error {
  if (error instanceof ForgeError) return error;
  const code = errorCode(error);
  const retryable =
    code !== undefined &&
    (TRANSIENT_ERROR_CODES.has(code) ||
      TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix)));
  const reason = error instanceof Error ? error.message : String(error);
  return new RunStoreOperationError(
    operation,
    code === undefined ? reason : `${reason} (${code})`,
    {
      cause: error,
      retryable,
    },
  );
}

/** Runs `action`, translating whatever the driver throws with {@link toRunStoreError}. */
export async function storeOperation<T>(operation: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw toRunStoreError(operation, error);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = error.code;
  return typeof code === 'string' ? code : undefined;
}
