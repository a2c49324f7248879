import type { ChildSpawner } from '../../adapters/child-process/process-spawner.js';
import { sharedSpawner } from '../../adapters/child-process/spawner-pool.js';
import { assertNever } from '../../core/assert-never.js';
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
  /** Starts git; default the process's shared spawner for its purpose (see `sharedSpawner`). */
  readonly spawner?: ChildSpawner;
  /** Starts background git work; default the process's shared `background` spawner. */
  readonly backgroundSpawner?: ChildSpawner;
}

/** Per-command settings. */
export interface GitRunOptions {
  /** Folder to run git in. */
  readonly cwd?: string;
  /** Overrides the runner's timeout for this command. */
  readonly timeoutMs?: number;
  /** Aborts (kills) the command, e.g. when the job is cancelled. */
  readonly signal?: AbortSignal;
  /**
   * Runs the command from the background spawner, at a lower CPU priority, for work nothing
   * waits on, such as restoring a released worktree: it then yields the cores to the steps
   * starting beside it.
   */
  readonly background?: boolean;
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
/** Output beyond this many characters on a stream is an error (a runaway command). */
const MAX_OUTPUT_CHARS = 256 * 1024 * 1024;

/** How a git command that did not succeed ended. */
type GitFailure =
  | { readonly kind: 'aborted' }
  | { readonly kind: 'not-started'; readonly code: string | undefined; readonly message: string }
  | { readonly kind: 'killed'; readonly signal: string }
  | { readonly kind: 'exited'; readonly exitCode: number };

/**
 * Runs git (no shell) in an environment that never prompts and ignores the
 * machine's global and system configuration, so a cache behaves the same on every worker.
 * Failures become {@link GitCommandError}s carrying git's stderr with credentials redacted.
 */
export class GitRunner {
  readonly #binary: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  readonly #spawner: ChildSpawner;
  readonly #backgroundSpawner: ChildSpawner;

  constructor(options: GitRunnerOptions) {
    this.#binary = options.binary ?? 'git';
    this.#spawner = options.spawner ?? sharedSpawner('git');
    this.#backgroundSpawner = options.backgroundSpawner ?? sharedSpawner('background');
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
    return this.#execute({ file: this.#binary, args, described: args, group: false }, options);
  }

  /**
   * Runs git `commands` one after another from one shell, stopping at the first that fails:
   * one start from the spawn server instead of one per command. A failure names the commands
   * joined with `&&`, and carries the failing command's stderr.
   */
  tryRunInSequence(
    commands: readonly (readonly string[])[],
    options: GitRunOptions = {},
  ): Promise<GitOutcome> {
    const script = commands
      .map((args) => [this.#binary, ...args].map(shellQuote).join(' '))
      .join(' && ');
    const described = commands.flatMap((args, index) =>
      index === 0 ? [...args] : ['&&', 'git', ...args],
    );
    // In a process group of its own, so that a timeout or abort stops the git under the shell.
    return this.#execute(
      { file: '/bin/sh', args: ['-c', script], described, group: true },
      options,
    );
  }

  #execute(
    command: {
      readonly file: string;
      readonly args: readonly string[];
      /** The git arguments a failure names. */
      readonly described: readonly string[];
      /** Started as a process group leader, and stopped as a group. */
      readonly group: boolean;
    },
    options: GitRunOptions,
  ): Promise<GitOutcome> {
    const { file, args, described, group } = command;
    const fail = (failure: GitFailure, stderr = ''): GitOutcome => ({
      ok: false,
      error: toGitCommandError(described, failure, stderr),
    });
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(fail({ kind: 'aborted' }));
    return new Promise((resolve) => {
      const spawner = options.background === true ? this.#backgroundSpawner : this.#spawner;
      const child = spawner.spawn({
        file,
        args,
        cwd: options.cwd,
        env: this.#env,
        detached: group,
      });
      const output = { stdout: '', stderr: '' };
      let stoppedBy: 'timeout' | 'aborted' | 'overflow' | undefined;
      let ending: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const stop = (why: NonNullable<typeof stoppedBy>): void => {
        stoppedBy ??= why;
        if (group && child.pid !== undefined) signalGroup(child.pid, 'SIGTERM');
        child.kill('SIGTERM');
      };
      const onAbort = (): void => stop('aborted');
      const timer = setTimeout(() => stop('timeout'), options.timeoutMs ?? this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (outcome: GitOutcome): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      child.on('output', (stream, chunk) => {
        output[stream] += chunk;
        if (output[stream].length > MAX_OUTPUT_CHARS) stop('overflow');
      });
      child.once('error', (error) =>
        settle(fail({ kind: 'not-started', code: error.code, message: error.message })),
      );
      child.once('exit', (code, exitSignal) => {
        ending = { code, signal: exitSignal };
      });
      child.once('close', () => {
        if (stoppedBy === 'aborted') return settle(fail({ kind: 'aborted' }, output.stderr));
        if (stoppedBy !== undefined) {
          const signalName = stoppedBy === 'timeout' ? 'timeout' : 'output too large';
          return settle(fail({ kind: 'killed', signal: signalName }, output.stderr));
        }
        if (ending?.code === 0) {
          return settle({ ok: true, stdout: output.stdout.replace(/\n$/, '') });
        }
        if (ending?.code === null || ending?.code === undefined) {
          return settle(
            fail({ kind: 'killed', signal: ending?.signal ?? 'unknown' }, output.stderr),
          );
        }
        settle(fail({ kind: 'exited', exitCode: ending.code }, output.stderr));
      });
    });
  }
}

/** Signals every process of the group `pgid`; one already gone is not an error. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group has ended.
  }
}

/** `text` as one word for `/bin/sh`, whatever it holds. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
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
  failure: GitFailure,
  stderr: string,
): GitCommandError {
  const shownArgs = args.map(redactCredentials);
  const shownStderr = redactCredentials(stderr.trim()).slice(-MAX_STDERR_CHARS);
  switch (failure.kind) {
    case 'aborted':
      return new GitCommandError(shownArgs, undefined, shownStderr, {
        cause: failure,
        reason: 'was aborted',
      });
    case 'not-started':
      return new GitCommandError(shownArgs, undefined, shownStderr, {
        cause: failure,
        reason:
          failure.code === 'ENOENT'
            ? 'could not start: git is not installed or not on PATH'
            : `could not start: ${failure.message}`,
      });
    case 'killed':
      return new GitCommandError(shownArgs, undefined, shownStderr, {
        cause: failure,
        retryable: true,
        reason: `was killed (${failure.signal})`,
      });
    case 'exited':
      return new GitCommandError(shownArgs, failure.exitCode, shownStderr, { cause: failure });
    default:
      return assertNever(failure, 'git failure');
  }
}
