import { ForgeError } from '../../core/errors.js';

/**
 * The root of every error the repository cache raises. Callers branch on the subclasses and on
 * {@link ForgeError.retryable}; no raw `child_process` error ever leaves the module: git's
 * failures arrive as {@link GitCommandError}, usually as the `cause` of a more specific error.
 */
export class RepositoryCacheError extends ForgeError {}

/** The options given to `RepositoryCache.open` are invalid; names the offending option. */
export class RepositoryCacheOptionsError extends RepositoryCacheError {}

/** A checkout request is unusable as given (empty job id, a ref that looks like an option...). */
export class CheckoutRequestError extends RepositoryCacheError {}

/** The cache was closed; it accepts no more checkouts. */
export class RepositoryCacheClosedError extends RepositoryCacheError {
  constructor() {
    super('the repository cache is closed');
  }
}

/** The caller's abort signal fired before the checkout was handed out. */
export class CheckoutAbortedError extends RepositoryCacheError {
  constructor(reason?: unknown) {
    super('checkout aborted', { cause: reason });
  }
}

/**
 * A git command failed. Carries the arguments (credentials redacted), the exit code and git's
 * own stderr, which is also part of the message so a log line alone explains the failure.
 */
export class GitCommandError extends RepositoryCacheError {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options: { cause?: unknown; retryable?: boolean; reason?: string } = {},
  ) {
    const what = `git ${args.join(' ')}`;
    const why = options.reason ?? `exited with ${exitCode ?? 'no exit code'}`;
    super(`${what} ${why}${stderr === '' ? '' : `: ${stderr}`}`, options);
  }
}

/** The initial bare clone of a repository failed; retryable when the failure looks like the network. */
export class RepositoryCloneError extends RepositoryCacheError {
  constructor(
    readonly url: string,
    cause: GitCommandError,
  ) {
    super(`cannot clone ${url}: ${cause.stderr || cause.message}`, {
      cause,
      retryable: isTransientGitFailure(cause),
    });
  }
}

/** Fetching new commits into an existing bare clone failed; retryable when it looks like the network. */
export class RepositoryFetchError extends RepositoryCacheError {
  constructor(
    readonly url: string,
    cause: GitCommandError,
  ) {
    super(`cannot fetch ${url}: ${cause.stderr || cause.message}`, {
      cause,
      retryable: isTransientGitFailure(cause),
    });
  }
}

/** Neither the cache nor the remote (after a fetch) has the requested commit, branch or tag. */
export class CommitNotFoundError extends RepositoryCacheError {
  constructor(
    readonly url: string,
    readonly ref: string,
  ) {
    super(`commit ${JSON.stringify(ref)} not found in ${url}, even after fetching`);
  }
}

/** Adding, populating or removing a job's worktree failed. */
export class WorktreeError extends RepositoryCacheError {
  constructor(
    readonly path: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(`worktree ${path}: ${message}`, options);
  }
}

/** Another live checkout (of this process or of another one sharing the cache) uses the job's worktree. */
export class WorktreeInUseError extends WorktreeError {
  constructor(
    path: string,
    readonly jobId: string,
  ) {
    super(path, `job ${JSON.stringify(jobId)} already has a live checkout here`);
  }
}

/** The lock of a repository could not be taken in time; someone else holds it, so a retry may pass. */
export class RepositoryLockError extends RepositoryCacheError {
  constructor(
    readonly key: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`lock of cached repository ${key}: ${message}`, { ...options, retryable: true });
  }
}

const TRANSIENT_PATTERNS = [
  /could not resolve host/i,
  /connection (timed out|refused|reset)/i,
  /failed to connect/i,
  /operation timed out/i,
  /early eof/i,
  /the remote end hung up/i,
  /rpc failed/i,
  /unable to access/i,
  /gnutls|openssl|ssl_/i,
  /returned error: (5\d\d|429)/i,
  /temporary failure/i,
  /network is unreachable/i,
];

const PERMANENT_PATTERNS = [
  /repository .* not found/i,
  /does not appear to be a git repository/i,
  /authentication failed/i,
  /could not read (username|password)/i,
  /permission denied/i,
  /returned error: 40[134]/i,
];

/**
 * Whether a git failure looks like the network or the server having a bad moment (a retry may
 * pass) rather than a wrong URL or missing permission (a retry cannot help). A command we
 * killed for taking too long counts as transient.
 */
export function isTransientGitFailure(error: GitCommandError): boolean {
  if (error.retryable) return true;
  if (PERMANENT_PATTERNS.some((pattern) => pattern.test(error.stderr))) return false;
  return TRANSIENT_PATTERNS.some((pattern) => pattern.test(error.stderr));
}
