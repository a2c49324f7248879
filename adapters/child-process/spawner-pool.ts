import { availableParallelism } from 'node:os';
import { ForgeError } from '../../core/errors.js';
import {
  ProcessSpawner,
  type ChildSpawner,
  type ProcessSpawnerOptions,
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

  constructor(size: number, options: ProcessSpawnerOptions = {}) {
    if (!Number.isInteger(size) || size < 1) {
      throw new SpawnerPoolOptionsError(`a spawner pool needs at least one server, not ${size}`);
    }
    this.#spawners = Array.from({ length: size }, () => new ProcessSpawner(options));
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

/**
 * What a shared spawner starts; each purpose has servers of its own. `background` is work
 * nothing waits on (restoring released worktrees): it runs {@link BACKGROUND_NICE_INCREMENT}
 * nice steps below this process.
 */
export type SpawnPurpose = 'steps' | 'git' | 'background';

/** How far below this process the `background` spawner's server and children run. */
export const BACKGROUND_NICE_INCREMENT = 10;

/** The process's shared spawners, by purpose. */
const shared = new Map<SpawnPurpose, SpawnerPool>();

/**
 * The spawner every runner of `purpose` in this process shares. Steps get a server per core
 * (at most two); the repository cache's git commands one of their own, and its background
 * work another, at a lower priority: the git commands restoring a wave of released worktrees
 * never queue ahead of the next checkouts or steps, and yield the cores to them. A server
 * started at a nice value passes it to every child it forks, where a `nice` in front of
 * each command would cost a program start more per command.
 */
export function sharedSpawner(purpose: SpawnPurpose): SpawnerPool {
  let pool = shared.get(purpose);
  if (pool === undefined) {
    const size = purpose === 'steps' ? Math.min(2, availableParallelism()) : 1;
    const niceIncrement = purpose === 'background' ? BACKGROUND_NICE_INCREMENT : 0;
    pool = new SpawnerPool(size, { niceIncrement });
    shared.set(purpose, pool);
  }
  return pool;
}
