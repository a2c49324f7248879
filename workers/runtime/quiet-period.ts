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
 * without one, once it has lasted `maxWaitMs`, when the urgent side lets the waiting work go
 * ({@link QuietPeriod.releaseWaiting}: it is waiting on that work), or at once after
 * {@link QuietPeriod.end}.
 */
export class QuietPeriod {
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  #lastActivityAt = Number.NEGATIVE_INFINITY;
  #ended = false;
  /** One per wait under way; aborting it ends that wait. */
  readonly #waiting = new Set<AbortController>();

  constructor(options: QuietPeriodOptions) {
    this.#quietMs = options.quietMs;
    this.#maxWaitMs = options.maxWaitMs;
  }

  /** Notes urgent work now: waits go on until `quietMs` from here. */
  markActivity(): void {
    this.#lastActivityAt = performance.now();
  }

  /** Resolves once it is quiet, `maxWaitMs` after the call at the latest; never rejects. */
  async wait(): Promise<void> {
    const giveUpAt = performance.now() + this.#maxWaitMs;
    const released = new AbortController();
    this.#waiting.add(released);
    try {
      while (!this.#ended && !released.signal.aborted) {
        const waitMs = Math.min(this.#lastActivityAt + this.#quietMs, giveUpAt) - performance.now();
        if (waitMs <= 0) return;
        await delay(waitMs, undefined, { signal: released.signal }).catch(() => undefined);
      }
    } finally {
      this.#waiting.delete(released);
    }
  }

  /** Ends the waits under way (later ones are held as before). */
  releaseWaiting(): void {
    for (const released of this.#waiting) released.abort();
  }

  /** Stops holding work back, for good (the urgent side has stopped). */
  end(): void {
    this.#ended = true;
    this.releaseWaiting();
  }
}
