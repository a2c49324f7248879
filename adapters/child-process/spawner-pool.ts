import { availableParallelism } from 'node:os';
import { ForgeError } from '../../core/errors.js';
import {
  ProcessSpawner,
  type ChildSpawner,
  type SpawnedChild,
  type SpawnRequest,
} from './process-spawner.js';

/** A spawner pool was asked for with an impossible size. */
export class SpawnerPoolOptionsError extends ForgeError {}

/**
 * Several {@link ProcessSpawner}s, each with its own spawn server, handing each child to the
 * one with the fewest running. A fork takes a few milliseconds of one core however small the
 * server is, and a server forks one child at a time: a wave of steps starting together
 * queues behind one server, and starts side by side on several.
 */
export class SpawnerPool implements ChildSpawner {
  readonly #spawners: readonly ProcessSpawner[];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new SpawnerPoolOptionsError(`a spawner pool needs at least one server, not ${size}`);
    }
    this.#spawners = Array.from({ length: size }, () => new ProcessSpawner());
  }

  spawn(request: SpawnRequest): SpawnedChild {
    let chosen = this.#spawners[0]!;
    for (const spawner of this.#spawners) if (spawner.running < chosen.running) chosen = spawner;
    return chosen.spawn(request);
  }

  /** Stops every server (see {@link ProcessSpawner.close}). */
  async close(): Promise<void> {
    await Promise.all(this.#spawners.map((spawner) => spawner.close()));
  }
}

/** What a shared spawner starts; each purpose has servers of its own. */
export type SpawnPurpose = 'steps' | 'git';

/** The process's shared spawners, by purpose. */
const shared = new Map<SpawnPurpose, SpawnerPool>();

/**
 * The spawner every runner of `purpose` in this process shares. Steps get a server per core
 * (at most two), and the repository cache's git commands one of their own, so that the git
 * commands restoring a wave of released worktrees never queue ahead of the next steps.
 */
export function sharedSpawner(purpose: SpawnPurpose): SpawnerPool {
  let pool = shared.get(purpose);
  if (pool === undefined) {
    pool = new SpawnerPool(purpose === 'steps' ? Math.min(2, availableParallelism()) : 1);
    shared.set(purpose, pool);
  }
  return pool;
}
