import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/*
 * The git questions the command line asks of a repository on this machine (`discover
 * --commit`, `run <path>`), answered by the git CLI so they read the repository exactly as a
 * user's own git would.
 */

const execFileAsync = promisify(execFile);

/**
 * Runs `git -C <cwd> <args>` and returns its standard output, trimmed. Rejects with the
 * child-process error, which carries git's `stderr`, when git fails. `env`, when given, is the
 * whole environment of git.
 */
export async function runGit(
  cwd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const { stdout } = await execFileAsync('git', ['-C', cwd, ...args], env ? { env } : {});
  return stdout.trim();
}

/**
 * Like {@link runGit}, but `undefined` when git fails: for questions whose "no" is a failing
 * git (not a repository, no such ref, no such remote).
 */
export async function tryGit(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return await runGit(cwd, args);
  } catch {
    return undefined;
  }
}

/**
 * The short name of the branch checked out at `repository`; `undefined` on a detached HEAD or
 * outside a git repository.
 */
export async function currentBranch(repository: string): Promise<string | undefined> {
  return (await tryGit(repository, ['symbolic-ref', '--quiet', '--short', 'HEAD'])) || undefined;
}

/** The full SHA of the commit `commitish` names in `repository`; `undefined` when it names none. */
export async function resolveCommit(
  repository: string,
  commitish: string,
): Promise<string | undefined> {
  return tryGit(repository, ['rev-parse', '--verify', `${commitish}^{commit}`]);
}
