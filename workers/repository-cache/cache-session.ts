import { randomUUID } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { check, lock } from 'proper-lockfile';
import type { RepositoryCacheLogger } from './repository-cache-events.js';

/** The text git stores as the lock reason of every worktree the cache adds. */
const OWNER_PREFIX = 'forge-repository-cache session=';

/**
 * The liveness of one `RepositoryCache` instance, seen by every process sharing the cache
 * folder. Each instance holds a lease (a `proper-lockfile` lock under `sessions/`, whose
 * mtime the library refreshes every `staleMs / 2`); every worktree it adds is locked in git
 * with its session id as the reason. A worktree whose session's lease is gone or stale
 * belongs to a crashed process and may be removed, at most `staleMs` + 1 s after the crash
 * (the library may date a new lease up to a second ahead). PIDs could not tell that across
 * the containers (separate PID namespaces) that share a node's cache.
 */
export class CacheSession {
  readonly id: string;
  #release: (() => Promise<void>) | undefined;

  constructor(
    private readonly sessionsDir: string,
    private readonly staleMs: number,
    private readonly logger: RepositoryCacheLogger,
  ) {
    this.id = `${hostname().replace(/[^A-Za-z0-9.-]/g, '-')}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /** Takes the lease; it stays fresh until {@link CacheSession.end}. */
  async begin(): Promise<void> {
    this.#release = await lock(this.#leaseTarget(this.id), {
      realpath: false,
      stale: this.staleMs,
      lockfilePath: this.#leasePath(this.id),
      onCompromised: (error) => {
        this.logger.error('repository cache session lease lost: others may prune its worktrees', {
          session: this.id,
          error: error.message,
        });
      },
    });
  }

  /** The git worktree lock reason that marks a worktree as this session's. */
  get ownerReason(): string {
    return `${OWNER_PREFIX}${this.id}`;
  }

  /**
   * Whether the worktree whose git lock reason is `reason` belongs to a live session. A
   * worktree without our reason (added by hand, or crashed before git wrote the lock) is not
   * live; the caller only asks about worktrees inside the cache's own folders.
   */
  async isOwnerAlive(reason: string | undefined): Promise<boolean> {
    const owner = ownerOf(reason);
    if (owner === undefined) return false;
    if (owner === this.id) return this.#release !== undefined;
    return check(this.#leaseTarget(owner), {
      realpath: false,
      stale: this.staleMs,
      lockfilePath: this.#leasePath(owner),
    });
  }

  /**
   * Deletes the leases of sessions that crashed without ending them (older than twice the
   * stale threshold, so a live session that merely missed one refresh keeps its lease).
   */
  static async sweep(sessionsDir: string, staleMs: number): Promise<void> {
    const names = await readdir(sessionsDir).catch(() => [] as string[]);
    for (const name of names.filter((entry) => entry.endsWith('.lock'))) {
      const path = join(sessionsDir, name);
      const stats = await stat(path).catch(() => undefined);
      if (stats && stats.mtimeMs < Date.now() - 2 * staleMs) {
        await rm(path, { recursive: true, force: true });
      }
    }
  }

  /** Whether `reason` names this very session. */
  owns(reason: string | undefined): boolean {
    return ownerOf(reason) === this.id;
  }

  /** Gives the lease up; idempotent. */
  async end(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    await release?.();
  }

  #leaseTarget(sessionId: string): string {
    return join(this.sessionsDir, sessionId);
  }

  #leasePath(sessionId: string): string {
    return join(this.sessionsDir, `${sessionId}.lock`);
  }
}

function ownerOf(reason: string | undefined): string | undefined {
  if (reason === undefined || !reason.startsWith(OWNER_PREFIX)) return undefined;
  const owner = reason.slice(OWNER_PREFIX.length).trim();
  return /^[A-Za-z0-9.-]+$/.test(owner) ? owner : undefined;
}
