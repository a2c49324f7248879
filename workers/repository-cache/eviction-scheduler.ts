import { errorMessage } from '../../core/errors.js';
import type { CacheEviction, EvictionResult } from './cache-eviction.js';
import type { RepositoryCacheLogger } from './repository-cache-events.js';

/**
 * Runs eviction in the background after clones and fetches, one pass at a time: a request
 * that arrives during a pass makes one more pass follow, however many arrive. The repository
 * whose clone or fetch asked for the pass, and every repository the cache has checked out,
 * are spared.
 */
export class EvictionScheduler {
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  readonly #protectedKeys = new Set<string>();

  constructor(
    private readonly eviction: CacheEviction,
    private readonly activeKeys: () => ReadonlySet<string>,
    private readonly logger: RepositoryCacheLogger,
  ) {}

  /** Asks for a pass soon, sparing `key`; never throws (failures are logged). */
  schedule(key: string): void {
    if (this.#stopped) return;
    this.#protectedKeys.add(key);
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** One pass now, after the running one; its failures reach the caller. */
  async runNow(): Promise<EvictionResult> {
    await this.#running;
    return this.eviction.run(this.activeKeys());
  }

  /** Refuses further passes and waits for the running one. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const spared = new Set([...this.#protectedKeys, ...this.activeKeys()]);
      this.#protectedKeys.clear();
      try {
        await this.eviction.run(spared);
      } catch (error) {
        this.logger.error('repository cache eviction failed', { error: errorMessage(error) });
      }
    } while (this.#again && !this.#stopped);
  }
}
