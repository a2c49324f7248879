import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { redactCredentials } from './git-runner.js';
import { RepositoryCacheError } from './repository-cache-errors.js';

/** Where one cached repository lives on disk, and how it is named in logs. */
export interface RepositoryLocation {
  /** The URL or path git fetches from (plain local paths made absolute). */
  readonly remote: string;
  /** The URL with credentials redacted, for logs, events and error messages. */
  readonly displayUrl: string;
  /** Readable slug plus short hash of the URL: the folder and lock name of this repository. */
  readonly key: string;
  /** The folder holding the bare clone and its metadata. */
  readonly entryDir: string;
  /** The bare clone itself. */
  readonly bareDir: string;
  /** The metadata file (last use, for LRU eviction). */
  readonly metadataFile: string;
  /** The folder holding this repository's job worktrees. */
  readonly worktreesDir: string;
}

/** What the cache remembers about a repository besides git's own data. */
export interface RepositoryMetadata {
  readonly url: string;
  /** Milliseconds since the epoch of the last checkout; LRU eviction removes the smallest first. */
  readonly lastUsedAt: number;
}

const SLUG_MAX = 48;
const JOB_SLUG_MAX = 64;

/**
 * The on-disk layout of a cache folder:
 * `repositories/<key>/repository.git` (bare clone) and `repositories/<key>/metadata.json`,
 * `<worktreesRoot>/<key>/<job folder>` (one worktree per job), `locks/<key>.lock`
 * (cross-process lock, kept outside the entry so eviction can delete the entry while holding
 * it), `sessions/` (liveness of each cache instance) and `trash/` (entries being deleted).
 */
export class CacheLayout {
  readonly repositoriesDir: string;
  readonly worktreesRoot: string;
  readonly locksDir: string;
  readonly sessionsDir: string;
  readonly trashDir: string;

  constructor(
    readonly cacheDir: string,
    worktreesRoot?: string,
  ) {
    this.repositoriesDir = join(cacheDir, 'repositories');
    this.worktreesRoot = worktreesRoot ?? join(cacheDir, 'worktrees');
    this.locksDir = join(cacheDir, 'locks');
    this.sessionsDir = join(cacheDir, 'sessions');
    this.trashDir = join(cacheDir, 'trash');
  }

  /** Creates the layout's folders. */
  async create(): Promise<void> {
    for (const dir of [this.repositoriesDir, this.worktreesRoot, this.locksDir, this.sessionsDir]) {
      await mkdir(dir, { recursive: true });
    }
  }

  /** The location of the repository at `url` (a URL, scp-like address or local path). */
  locate(url: string): RepositoryLocation {
    const remote = normaliseRemote(url);
    return this.locateKey(repositoryKey(remote), redactCredentials(remote), remote);
  }

  /** The location of an entry found on disk, whose URL is only known from its metadata. */
  locateKey(key: string, displayUrl = key, remote = ''): RepositoryLocation {
    const entryDir = join(this.repositoriesDir, key);
    return {
      remote,
      displayUrl,
      key,
      entryDir,
      bareDir: join(entryDir, 'repository.git'),
      metadataFile: join(entryDir, 'metadata.json'),
      worktreesDir: join(this.worktreesRoot, key),
    };
  }

  /**
   * A new worktree folder for a checkout of a job in a repository: the job's folder name and a
   * random suffix. A worktree outlives its job when its cache keeps it for the next checkout,
   * so no folder may be the job's for good: a delivery of the same job elsewhere on the node
   * would find it held.
   */
  worktreePath(location: RepositoryLocation, jobId: string): string {
    return join(
      location.worktreesDir,
      `${worktreeFolderName(jobId)}-${randomBytes(4).toString('hex')}`,
    );
  }

  /** The cross-process lock folder of a repository. */
  lockPath(key: string): string {
    return join(this.locksDir, `${key}.lock`);
  }
}

/**
 * A folder name for a job id such as `run-42/task/test/api-server`: a readable slug of the id
 * plus a hash of the whole id, so ids differing only in characters the slug drops (`/` vs `-`)
 * still get distinct folders.
 */
export function worktreeFolderName(jobId: string): string {
  return `${slugify(jobId, JOB_SLUG_MAX)}-${shortHash(jobId)}`;
}

/** Creates `path` if needed and returns its real path (git reports worktrees by real path). */
export async function ensureFolder(path: string): Promise<string> {
  try {
    await mkdir(path, { recursive: true });
    return await realpath(path);
  } catch (error) {
    throw new RepositoryCacheError(`cannot use ${path} as a cache folder: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/** Arguments that point git at the repository's bare clone, whatever the working folder. */
export function gitDir(location: Pick<RepositoryLocation, 'bareDir'>, ...args: string[]): string[] {
  return ['--git-dir', location.bareDir, ...args];
}

/** Reads a repository's metadata; `undefined` when missing or unreadable (treated as oldest). */
export async function readMetadata(
  location: RepositoryLocation,
): Promise<RepositoryMetadata | undefined> {
  try {
    const parsed = JSON.parse(await readFile(location.metadataFile, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { url, lastUsedAt } = parsed as Record<string, unknown>;
    if (typeof url !== 'string' || typeof lastUsedAt !== 'number') return undefined;
    return { url, lastUsedAt };
  } catch {
    return undefined;
  }
}

/** Records a use of the repository now; atomic (write then rename), called under the lock. */
export async function touchMetadata(location: RepositoryLocation, now: number): Promise<void> {
  const metadata: RepositoryMetadata = { url: location.displayUrl, lastUsedAt: now };
  const temporary = `${location.metadataFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(metadata)}\n`);
  await rename(temporary, location.metadataFile);
}

function normaliseRemote(url: string): string {
  const trimmed = url.trim();
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  const isScpLike = /^[^/\s]+@[^/\s:]+:/.test(trimmed);
  if (isUrl || isScpLike) return trimmed.replace(/\/+$/, '');
  return isAbsolute(trimmed) ? resolve(trimmed) : resolve(process.cwd(), trimmed);
}

function repositoryKey(remote: string): string {
  const withoutCredentials = remote.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, '$1');
  const segments = withoutCredentials
    .replace(/\.git$/, '')
    .split(/[/:]/)
    .filter((segment) => segment !== '');
  const readable = segments.slice(-2).join('-') || 'repository';
  return `${slugify(readable, SLUG_MAX)}-${shortHash(withoutCredentials)}`;
}

function slugify(text: string, maxLength: number): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, maxLength)
    .replace(/[-.]+$/, '');
  return slug === '' ? 'x' : slug;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
