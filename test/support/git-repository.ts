import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach } from 'vitest';

const execFileAsync = promisify(execFile);

/** Environment that makes git deterministic and independent of the machine's global config. */
export const gitTestEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Forge Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Forge Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git in `cwd` and returns its trimmed stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: gitTestEnv,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** A real git repository in a temporary folder, for tests. */
export interface TestRepository {
  readonly path: string;
  /** Writes files (relative path → content), creating folders as needed. */
  write(files: Record<string, string>): Promise<void>;
  /** Stages everything and commits; returns the new commit's SHA. */
  commit(message?: string): Promise<string>;
  /** Removes the repository's folder. */
  remove(): Promise<void>;
}

/** Creates an empty repository on branch `main` in a new temporary folder. */
export async function createTestRepository(
  files: Record<string, string> = {},
): Promise<TestRepository> {
  const path = await mkdtemp(join(tmpdir(), 'forge-repo-'));
  await git(path, 'init', '--quiet', '--initial-branch=main');
  const repository: TestRepository = {
    path,
    async write(entries) {
      for (const [relativePath, content] of Object.entries(entries)) {
        const target = join(path, relativePath);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
    },
    async commit(message = 'test commit') {
      await git(path, 'add', '--all');
      await git(path, 'commit', '--quiet', '--allow-empty', '-m', message);
      return git(path, 'rev-parse', 'HEAD');
    },
    async remove() {
      await rm(path, { recursive: true, force: true });
    },
  };
  await repository.write(files);
  return repository;
}

/**
 * For a test file: returns a function that creates a committed repository with `files`, and
 * removes every repository it created after each test.
 */
export function useCommittedRepositories(): (
  files: Record<string, string>,
) => Promise<TestRepository> {
  const repositories: TestRepository[] = [];
  afterEach(async () => {
    await Promise.all(repositories.splice(0).map((repository) => repository.remove()));
  });
  return async (files) => {
    const repository = await createTestRepository(files);
    repositories.push(repository);
    await repository.commit('fixture');
    return repository;
  };
}
