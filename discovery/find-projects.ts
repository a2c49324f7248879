import type { Dirent } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { DISCOVERY_LIMITS, type DiscoveryProblem } from '../core/contracts/discovery-output.js';
import { comparePaths } from '../core/discovery/assemble-discovery.js';
import { DiscoveryLimitError } from '../core/discovery/discovery-errors.js';

/** Where a project's configuration lives, relative to its folder. */
export const PROJECT_CONFIG_FILE = '.forge/project.cue';

/** A project folder found in the tree. */
export interface FoundProject {
  /** The folder, relative to the repository root (`.` for the root itself). */
  readonly path: string;
  /** Its configuration file, relative to the repository root. */
  readonly file: string;
}

export interface FoundProjects {
  readonly projects: readonly FoundProject[];
  /** Projects found but skipped (nested in another project, behind a symbolic link). */
  readonly problems: readonly DiscoveryProblem[];
}

interface IgnoreLevel {
  /** The folder whose `.gitignore` this is, relative to the root ('' for the root). */
  readonly base: string;
  readonly rules: Ignore;
}

/**
 * Walks the whole repository for `<folder>/.forge/project.cue` (DESIGN.md section 3): honours
 * every `.gitignore` on the way (and `.git/info/exclude`), never follows a symbolic link, and
 * skips a project nested inside another one with a problem naming both. A project at the root
 * is allowed and nests nothing: the root's `.forge` is the repository's own. Fails once more
 * than the project limit are found.
 */
export async function findProjects(root: string): Promise<FoundProjects> {
  const found: FoundProject[] = [];
  const problems: DiscoveryProblem[] = [];
  const rootRules = ignore();
  rootRules.add(await readOptional(join(root, '.git', 'info', 'exclude')));
  await walk(root, '', [{ base: '', rules: rootRules }], found, problems);

  found.sort((a, b) => comparePaths(a.path, b.path));
  const projects: FoundProject[] = [];
  for (const project of found) {
    const outer = projects.find(
      (candidate) => candidate.path !== '.' && project.path.startsWith(`${candidate.path}/`),
    );
    if (outer) {
      problems.push({
        path: project.file,
        message: `project nested inside the project at ${outer.path}: a .forge folder may not sit inside another project's folder`,
      });
      continue;
    }
    projects.push(project);
  }
  if (projects.length > DISCOVERY_LIMITS.maxProjects) {
    throw new DiscoveryLimitError(
      `found ${projects.length} projects, over the limit of ${DISCOVERY_LIMITS.maxProjects} per repository`,
    );
  }
  return { projects, problems };
}

async function walk(
  root: string,
  relative: string,
  inheritedLevels: readonly IgnoreLevel[],
  found: FoundProject[],
  problems: DiscoveryProblem[],
): Promise<void> {
  const folder = join(root, relative);
  const entries = await readdir(folder, { withFileTypes: true });
  const levels = await withOwnGitignore(folder, relative, entries, inheritedLevels);
  const subfolders: string[] = [];
  for (const entry of entries) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.name === '.git') continue;
    if (entry.name === '.forge') {
      if (!isIgnored(levels, `${path}/`)) {
        await inspectForgeFolder(root, relative, entry, found, problems);
      }
      continue;
    }
    if (entry.isDirectory() && !isIgnored(levels, `${path}/`)) subfolders.push(path);
  }
  await Promise.all(subfolders.map((path) => walk(root, path, levels, found, problems)));
}

async function inspectForgeFolder(
  root: string,
  relative: string,
  entry: Dirent,
  found: FoundProject[],
  problems: DiscoveryProblem[],
): Promise<void> {
  const projectPath = relative === '' ? '.' : relative;
  const file = posix.join(relative, PROJECT_CONFIG_FILE);
  if (entry.isSymbolicLink()) {
    problems.push({
      path: file,
      message: `${posix.join(relative, '.forge')} is a symbolic link, which discovery never follows`,
    });
    return;
  }
  if (!entry.isDirectory()) return;
  const contents = await readdir(join(root, relative, '.forge'), { withFileTypes: true });
  const config = contents.find(({ name }) => name === 'project.cue');
  if (!config) return;
  if (config.isSymbolicLink()) {
    problems.push({
      path: file,
      message: `${file} is a symbolic link, which discovery never follows`,
    });
  } else if (config.isFile()) {
    found.push({ path: projectPath, file });
  }
}

async function withOwnGitignore(
  folder: string,
  relative: string,
  entries: readonly Dirent[],
  levels: readonly IgnoreLevel[],
): Promise<readonly IgnoreLevel[]> {
  const gitignore = entries.find(({ name }) => name === '.gitignore');
  if (!gitignore?.isFile()) return levels;
  const rules = ignore().add(await readOptional(join(folder, '.gitignore')));
  return [...levels, { base: relative, rules }];
}

/** Git's precedence: the deepest `.gitignore` with a matching rule decides. */
function isIgnored(levels: readonly IgnoreLevel[], path: string): boolean {
  let ignored = false;
  for (const { base, rules } of levels) {
    const result = rules.test(base === '' ? path : path.slice(base.length + 1));
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}
