import { createHash, randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { WorkflowRun } from '../../core/ports/workflow-engine.js';
import { UsageError } from '../run-cli.js';
import { currentBranch, resolveCommit, runGit, tryGit } from './local-git.js';

/** Fixed identity and dates, so the same folder content always snapshots to the same commit. */
const SNAPSHOT_GIT_ENV = {
  GIT_AUTHOR_NAME: 'forge-pipeline',
  GIT_AUTHOR_EMAIL: 'forge-pipeline@localhost',
  GIT_COMMITTER_NAME: 'forge-pipeline',
  GIT_COMMITTER_EMAIL: 'forge-pipeline@localhost',
  GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z',
};

/** Options of {@link resolveRunSource}. */
export interface RunSourceOptions {
  /** A commit-ish of the repository; `HEAD` by default. */
  readonly commit: string;
  readonly branch?: string | undefined;
  /** Where folders that are not a repository's root are snapshotted into git repositories. */
  readonly snapshotDirectory: string;
}

/** The run to submit, and what the user should know about how its source was chosen. */
export interface RunSource {
  readonly run: WorkflowRun;
  readonly notes: readonly string[];
}

/**
 * What `forge-pipeline run <path>` runs. The root of a git repository runs `commit` of it
 * (uncommitted changes are not part of a run, as in CI). Any other folder, such as a sample
 * inside this repository, runs a snapshot: its files as they are on disk (its own
 * `.gitignore` files honoured) committed into a scratch repository kept per folder, with a
 * fixed date so that unchanged content is the same commit and finds the caches warm.
 */
export async function resolveRunSource(
  path: string,
  options: RunSourceOptions,
): Promise<RunSource> {
  const folder = await stat(path).catch(() => undefined);
  if (folder?.isDirectory() !== true) throw new UsageError(`${path}: no such folder`);
  const topLevel = await tryGit(path, ['rev-parse', '--show-toplevel']);
  if (topLevel !== undefined && relative(topLevel, path) === '') {
    return fromRepository(path, options);
  }
  if (options.commit !== 'HEAD') {
    throw new UsageError(`--commit needs the root of a git repository; ${path} is not one`);
  }
  return fromSnapshot(path, options, topLevel);
}

async function fromRepository(path: string, options: RunSourceOptions): Promise<RunSource> {
  const commit = await resolveCommit(path, options.commit);
  if (commit === undefined) {
    throw new UsageError(`${options.commit} is not a commit of the repository at ${path}`);
  }
  const branch =
    options.branch ?? (options.commit === 'HEAD' ? await currentBranch(path) : undefined);
  const changes = await tryGit(path, ['status', '--porcelain', '--untracked-files=no']);
  const notes =
    changes === undefined || changes === ''
      ? []
      : [`uncommitted changes in ${path} are not part of the run; it runs commit ${commit}`];
  return {
    run: {
      runId: randomUUID(),
      repository: await repositoryName(path),
      cloneUrl: path,
      commit,
      branch,
    },
    notes,
  };
}

async function fromSnapshot(
  path: string,
  options: RunSourceOptions,
  enclosingRepository: string | undefined,
): Promise<RunSource> {
  const key = createHash('sha256').update(path).digest('hex').slice(0, 12);
  const snapshot = join(options.snapshotDirectory, `${safeName(basename(path))}-${key}`);
  await mkdir(snapshot, { recursive: true });
  const gitDir = join(snapshot, '.git');
  const inSnapshot = (args: string[]) =>
    gitOrThrow(path, ['--git-dir', gitDir, '--work-tree', path, ...args], `snapshot of ${path}`);
  if ((await tryGit(snapshot, ['--git-dir', gitDir, 'rev-parse', '--git-dir'])) === undefined) {
    await gitOrThrow(snapshot, ['init', '--quiet', '--initial-branch=main', snapshot], 'git init');
  }
  await inSnapshot(['add', '--all', '.']);
  // A parentless commit of the tree, with fixed author and date: the same content is always
  // the same commit, so a run of unchanged files finds the caches (and the earlier run) again.
  const tree = await inSnapshot(['write-tree']);
  const commit = await inSnapshot(['commit-tree', tree, '-m', `snapshot of ${basename(path)}`]);
  await inSnapshot(['update-ref', 'refs/heads/main', commit]);
  const branch =
    options.branch ??
    (enclosingRepository === undefined
      ? 'main'
      : ((await currentBranch(enclosingRepository)) ?? 'main'));
  return {
    run: {
      runId: randomUUID(),
      repository: `local/${safeName(basename(path))}`,
      cloneUrl: snapshot,
      commit,
      branch,
    },
    notes: [
      `${path} is not the root of a git repository: running a snapshot of its files (${commit.slice(0, 12)})`,
    ],
  };
}

/** `owner/name` from a GitHub `origin`, else `local/<folder>`. */
async function repositoryName(path: string): Promise<string> {
  const origin = await tryGit(path, ['remote', 'get-url', 'origin']);
  const fromGitHub = origin?.match(/github\.com[:/]([^/]+)\/([^/]+?)(?:\.git)?$/);
  if (fromGitHub?.[1] !== undefined && fromGitHub[2] !== undefined) {
    return `${fromGitHub[1]}/${fromGitHub[2]}`;
  }
  return `local/${safeName(basename(path))}`;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '') || 'repository';
}

async function gitOrThrow(cwd: string, args: string[], what: string): Promise<string> {
  try {
    return await runGit(cwd, args, { ...process.env, ...SNAPSHOT_GIT_ENV });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() ?? String(error);
    throw new UsageError(`${what} failed: ${detail.split('\n')[0] ?? detail}`);
  }
}
