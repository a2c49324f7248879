import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterEach } from 'vitest';
import type { RepositoryCacheEvent } from '../../workers/repository-cache/index.js';
import { createTestRepository, git, type TestRepository } from './git-repository.js';

/** Undoes something a test set up (removes a folder, closes a cache, releases a checkout). */
export type Cleanup = () => Promise<unknown>;

/**
 * The cleanups of a test file: registers an `afterEach` hook that runs, last pushed first, what
 * each test pushed onto the returned list, so a cache closes before its folder is removed.
 * Call it once, at the top of the file.
 */
export function useCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** A temporary folder for a test, removed by `remove()`. */
export interface TempFolder {
  readonly path: string;
  remove(): Promise<void>;
}

/** Creates an empty temporary folder. */
export async function createTempFolder(prefix = 'forge-cache-'): Promise<TempFolder> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A repository whose commit `i` (0-based) writes `index.txt` containing `i` and adds
 * `file-<i>.txt`, so a checkout shows unmistakably which commit it is.
 */
export async function createNumberedRepository(
  count: number,
): Promise<{ repository: TestRepository; commits: string[] }> {
  const repository = await createTestRepository();
  const commits: string[] = [];
  for (let index = 0; index < count; index += 1) {
    commits.push(await appendNumberedCommit(repository, index));
  }
  return { repository, commits };
}

/** Adds commit number `index` to a repository made by {@link createNumberedRepository}. */
export async function appendNumberedCommit(
  repository: TestRepository,
  index: number,
): Promise<string> {
  await repository.write({
    'index.txt': `${index}\n`,
    [`file-${index}.txt`]: `content ${index}\n`,
  });
  return repository.commit(`commit ${index}`);
}

/** Reads `index.txt` of a checkout as a number. */
export async function readCommitIndex(worktreePath: string): Promise<number> {
  return Number((await readFile(join(worktreePath, 'index.txt'), 'utf8')).trim());
}

/**
 * Every file under a checkout, as sorted paths relative to it, without the `.git` file that
 * links a worktree to its repository: what to compare with the commit's `git ls-tree -r`.
 */
export async function filesOf(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name !== '.git')
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .sort();
}

/** Collects the events a cache emits, for assertions. */
export function recordEvents(): {
  events: RepositoryCacheEvent[];
  onEvent: (event: RepositoryCacheEvent) => void;
  count: (type: RepositoryCacheEvent['type']) => number;
} {
  const events: RepositoryCacheEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    count: (type) => events.filter((event) => event.type === type).length,
  };
}

/**
 * Runs a checkout in a child process that is then killed with SIGKILL, leaving its worktree,
 * its git worktree registration and its session lease behind exactly as a crash would.
 * Returns the worktree path the child checked out.
 */
export async function checkoutThenCrash(options: {
  cacheDir: string;
  url: string;
  commit: string;
  jobId: string;
  lockStaleMs: number;
}): Promise<string> {
  const script = join(import.meta.dirname, 'repository-cache-crashing-checkout.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
    child.on('close', (_code, closeSignal) => resolve(closeSignal));
  });
  if (signal !== 'SIGKILL' || stdout.trim() === '') {
    throw new Error(`crashing checkout did not crash as planned (${signal}): ${stderr}`);
  }
  return stdout.trim();
}

/** The `git worktree list --porcelain` records of the bare clone behind `worktreePath`, without the bare one. */
export async function registeredWorktrees(
  cacheDir: string,
  worktreePath: string,
): Promise<string[]> {
  const bareDir = join(cacheDir, 'repositories', basename(dirname(worktreePath)), 'repository.git');
  const listed = await git(bareDir, 'worktree', 'list', '--porcelain');
  return listed.split('\n\n').filter((record) => !record.includes('\nbare'));
}
