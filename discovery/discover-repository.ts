import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiscoveryOutput, DiscoveryProblem } from '../core/contracts/discovery-output.js';
import {
  RepositoryConfigSchema,
  type RepositoryConfig,
} from '../core/contracts/repository-config.js';
import {
  assembleDiscoveryOutput,
  type EvaluatedProject,
} from '../core/discovery/assemble-discovery.js';
import {
  RepositoryConfigInvalidError,
  RepositoryConfigNotFoundError,
  RepositoryUnreadableError,
} from '../core/discovery/discovery-errors.js';
import { resolveForgeReferences, valueAtPath } from '../core/discovery/forge-references.js';
import type { TriggerContext } from '../core/discovery/release-triggers.js';
import { lineOfKeyPath } from '../core/discovery/source-lines.js';
import { errorMessage } from '../core/errors.js';
import type { ConfigEvaluator, ConfigProblem } from '../core/ports/config-evaluator.js';
import { findProjects, type FoundProject } from './find-projects.js';

/** Where the repository's own configuration lives, relative to its root. */
export const REPOSITORY_CONFIG_FILE = '.forge/repo.cue';

export interface DiscoverRepositoryOptions {
  /** The CUE evaluator, usually a {@link CachingConfigEvaluator} around the WebAssembly one. */
  readonly evaluator: ConfigEvaluator;
  /** The run's branch and tag, for release triggers. */
  readonly trigger?: TriggerContext;
}

/**
 * Discovers the projects of the repository checked out at `root` (DESIGN.md sections 3 and 4).
 * The repository's configuration is evaluated while the tree is walked; then every project is
 * evaluated in one batch. Throws a {@link DiscoveryError} when the repository as a whole cannot
 * be discovered; a bad project only adds an entry to `errors`.
 */
export async function discoverRepository(
  root: string,
  options: DiscoverRepositoryOptions,
): Promise<DiscoveryOutput> {
  await assertReadableFolder(root);
  const walking = findProjects(root);
  walking.catch(() => undefined);
  const { config: repository, raw } = await loadRepositoryConfig(root, options.evaluator);
  const found = await walking;

  const problems: DiscoveryProblem[] = [...found.problems];
  const sources = await readProjectSources(root, found.projects, problems);
  const prepared: { project: FoundProject; source: string; resolved: string }[] = [];
  for (const { project, source } of sources) {
    const references = resolveForgeReferences(source, (path) => valueAtPath(raw, path));
    const first = references.problems[0];
    if (first) problems.push({ path: project.file, line: first.line, message: first.message });
    else prepared.push({ project, source, resolved: references.source });
  }

  const evaluations = await options.evaluator.evaluate(
    prepared.map(({ project, resolved }) => ({ path: project.file, source: resolved })),
    'project',
  );
  const projects: EvaluatedProject[] = [];
  evaluations.forEach((evaluation, index) => {
    const { project, source } = prepared[index] as (typeof prepared)[number];
    if (evaluation.ok) {
      projects.push({ path: project.path, file: project.file, source, value: evaluation.value });
    } else {
      problems.push({ path: project.file, ...summarise(evaluation.problems) });
    }
  });

  return assembleDiscoveryOutput({
    repository,
    projects,
    problems,
    trigger: options.trigger ?? {},
  });
}

async function assertReadableFolder(root: string): Promise<void> {
  try {
    const stats = await lstat(root);
    if (!stats.isDirectory()) throw new RepositoryUnreadableError(root, 'not a folder');
    await readdir(root);
  } catch (error) {
    if (error instanceof RepositoryUnreadableError) throw error;
    throw new RepositoryUnreadableError(root, describeFileError(error), { cause: error });
  }
}

async function loadRepositoryConfig(
  root: string,
  evaluator: ConfigEvaluator,
): Promise<{ config: RepositoryConfig; raw: unknown }> {
  const path = join(root, REPOSITORY_CONFIG_FILE);
  let source: string;
  try {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) {
      throw new RepositoryConfigInvalidError(
        path,
        undefined,
        'is a symbolic link, which discovery never follows',
      );
    }
    source = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof RepositoryConfigInvalidError) throw error;
    if (isFileError(error, 'ENOENT')) throw new RepositoryConfigNotFoundError(path);
    throw new RepositoryConfigInvalidError(
      path,
      undefined,
      `cannot be read: ${describeFileError(error)}`,
    );
  }

  const [evaluation] = await evaluator.evaluate([{ path: REPOSITORY_CONFIG_FILE, source }], 'repo');
  if (!evaluation?.ok) {
    const { line, message } = summarise(evaluation?.problems ?? []);
    throw new RepositoryConfigInvalidError(path, line, message);
  }
  const parsed = RepositoryConfigSchema.safeParse(evaluation.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue?.path ?? [];
    throw new RepositoryConfigInvalidError(
      path,
      lineOfKeyPath(source, keys),
      `${keys.length > 0 ? `${keys.join('.')}: ` : ''}${issue?.message ?? 'invalid repository configuration'}`,
    );
  }
  return { config: parsed.data, raw: evaluation.value };
}

async function readProjectSources(
  root: string,
  projects: readonly FoundProject[],
  problems: DiscoveryProblem[],
): Promise<{ project: FoundProject; source: string }[]> {
  const read = await Promise.all(
    projects.map(async (project) => {
      try {
        return { project, source: await readFile(join(root, project.file), 'utf8') };
      } catch (error) {
        problems.push({
          path: project.file,
          message: `cannot be read: ${describeFileError(error)}`,
        });
        return undefined;
      }
    }),
  );
  return read.filter((entry) => entry !== undefined);
}

/** One problem entry from an evaluator's problems: the first line, every message. */
function summarise(problems: readonly ConfigProblem[]): { line?: number; message: string } {
  const line = problems.find((problem) => problem.line !== undefined)?.line;
  const message = problems.map((problem) => problem.message).join('; ') || 'invalid configuration';
  return line === undefined ? { message } : { line, message };
}

function isFileError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

const FILE_ERROR_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'not a folder',
};

function describeFileError(error: unknown): string {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return (code === undefined ? undefined : FILE_ERROR_REASONS[code]) ?? errorMessage(error);
}
