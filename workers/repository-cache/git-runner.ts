import { execFile } from 'node:child_process';
import { GitCommandError } from './repository-cache-errors.js';

/** How the cache runs git: which binary, extra environment and configuration, and for how long. */
export interface GitRunnerOptions {
  /** The git executable; `git` from PATH by default. */
  readonly binary?: string;
  /**
   * Extra environment for every git command (e.g. `GIT_SSH_COMMAND` with a deploy key). The
   * inherited `GIT_*` variables are dropped, so only what is set here reaches git.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Configuration for every git command (e.g. `http.extraHeader` or `credential.helper`),
   * passed through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n` so secrets never show in `ps`.
   */
  readonly config?: Readonly<Record<string, string>>;
  /** Longest a single git command may run before it is killed. */
  readonly timeoutMs: number;
}

/** Per-command settings. */
export interface GitRunOptions {
  /** Folder to run git in. */
  readonly cwd?: string;
  /** Overrides the runner's timeout for this command. */
  readonly timeoutMs?: number;
  /** Aborts (kills) the command, e.g. when the job is cancelled. */
  readonly signal?: AbortSignal;
}

/** The outcome of a git command whose failure is an expected answer rather than an error. */
export type GitOutcome =
  | { readonly ok: true; readonly stdout: string }
  | { readonly ok: false; readonly error: GitCommandError };

/** Inherited git variables that describe the machine (CA bundle, SSH setup, tracing), kept. */
const INHERITED_GIT_VARIABLES = new Set([
  'GIT_EXEC_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'GIT_TRACE',
  'GIT_TRACE2',
  'GIT_CURL_VERBOSE',
]);
/** Configuration every cache command gets unless the caller overrides it. */
const BASE_CONFIG: Readonly<Record<string, string>> = {
  // Jobs run code that could plant hooks in a cached repository: the cache never runs any.
  'core.hooksPath': '/dev/null',
};
const MAX_STDERR_CHARS = 4000;

/**
 * Runs git with `execFile` (no shell) in an environment that never prompts and ignores the
 * machine's global and system configuration, so a cache behaves the same on every worker.
 * Failures become {@link GitCommandError}s carrying git's stderr with credentials redacted.
 */
export class GitRunner {
  readonly #binary: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;

  constructor(options: GitRunnerOptions) {
    this.#binary = options.binary ?? 'git';
    this.#timeoutMs = options.timeoutMs;
    this.#env = gitEnvironment(process.env, options.env ?? {}, options.config ?? {});
  }

  /** Runs git and returns its stdout without the trailing newline; throws {@link GitCommandError}. */
  async run(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
    const outcome = await this.tryRun(args, options);
    if (!outcome.ok) throw outcome.error;
    return outcome.stdout;
  }

  /** Runs git and reports failure as a value, for commands whose non-zero exit is an answer. */
  tryRun(args: readonly string[], options: GitRunOptions = {}): Promise<GitOutcome> {
    return new Promise((resolve) => {
      const child = execFile(
        this.#binary,
        args,
        {
          cwd: options.cwd,
          env: this.#env,
          timeout: options.timeoutMs ?? this.#timeoutMs,
          maxBuffer: 256 * 1024 * 1024,
          signal: options.signal,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          if (!error) {
            resolve({ ok: true, stdout: stdout.replace(/\n$/, '') });
            return;
          }
          resolve({ ok: false, error: toGitCommandError(args, error, stderr) });
        },
      );
      child.stdin?.end();
    });
  }
}

/** Replaces the user-info part of URLs (`https://token@host`, `https://user:pass@host`) with `***`. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

function gitEnvironment(
  inherited: NodeJS.ProcessEnv,
  extra: Readonly<Record<string, string>>,
  config: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_SSH_COMMAND: 'ssh -o BatchMode=yes' };
  for (const [name, value] of Object.entries(inherited)) {
    if (!name.startsWith('GIT_') || INHERITED_GIT_VARIABLES.has(name)) env[name] = value;
  }
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    LC_ALL: 'C',
  });
  Object.assign(env, extra);
  const entries = Object.entries({ ...BASE_CONFIG, ...config });
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  if (entries.length > 0) env.GIT_CONFIG_COUNT = String(entries.length);
  return env;
}

function toGitCommandError(
  args: readonly string[],
  error: Error & { code?: unknown; killed?: boolean; signal?: NodeJS.Signals | null },
  stderr: string,
): GitCommandError {
  const shownArgs = args.map(redactCredentials);
  const shownStderr = redactCredentials(stderr.trim()).slice(-MAX_STDERR_CHARS);
  const cause = { name: error.name, code: error.code, signal: error.signal };
  if (error.name === 'AbortError') {
    return new GitCommandError(shownArgs, undefined, shownStderr, { cause, reason: 'was aborted' });
  }
  if (error.code === 'ENOENT') {
    return new GitCommandError(shownArgs, undefined, shownStderr, {
      cause,
      reason: 'could not start: git is not installed or not on PATH',
    });
  }
  if (error.killed === true || error.signal) {
    return new GitCommandError(shownArgs, undefined, shownStderr, {
      cause,
      retryable: true,
      reason: `was killed (${error.signal ?? 'timeout'})`,
    });
  }
  const exitCode = typeof error.code === 'number' ? error.code : undefined;
  return new GitCommandError(shownArgs, exitCode, shownStderr, { cause });
}
