import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/** Options of {@link QuietPeriod}. */
export interface QuietPeriodOptions {
  /** How long after the last activity it is quiet; 0 makes every wait end at once. */
  readonly quietMs: number;
  /** The longest a wait lasts, quiet or not, so that waiting work is never starved. */
  readonly maxWaitMs: number;
}

/**
 * Holds work back while a burst of more urgent work is under way. The urgent side marks each
 * piece of its work ({@link QuietPeriod.markActivity}); a wait ends once `quietMs` passed
 * without one, once it has lasted `maxWaitMs`, or at once after {@link QuietPeriod.end}.
 */
export class QuietPeriod {
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  #lastActivityAt = Number.NEGATIVE_INFINITY;
  /** Aborted by `end()`: every wait, running or to come, ends at once. */
  readonly #ended = new AbortController();

  constructor(options: QuietPeriodOptions) {
    this.#quietMs = options.quietMs;
    this.#maxWaitMs = options.maxWaitMs;
    // One listener per wait under way, which is no leak at any count.
    setMaxListeners(0, this.#ended.signal);
  }

  /** Notes urgent work now: waits go on until `quietMs` from here. */
  markActivity(): void {
    this.#lastActivityAt = performance.now();
  }

  /** Resolves once it is quiet, `maxWaitMs` after the call at the latest; never rejects. */
  async wait(): Promise<void> {
    const giveUpAt = performance.now() + this.#maxWaitMs;
    const signal = this.#ended.signal;
    while (!signal.aborted) {
      const waitMs = Math.min(this.#lastActivityAt + this.#quietMs, giveUpAt) - performance.now();
      if (waitMs <= 0) return;
      await delay(waitMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Stops holding work back, for good (the urgent side has stopped). */
  end(): void {
    this.#ended.abort();
  }
}
