/** An extra run of a {@link RepeatingTask}, ahead of its first tick. */
export interface EarlyRun {
  /** Delay from start; the run is skipped if the task is stopped first. */
  readonly afterMs: number;
  /** Must not throw: it handles its own errors. */
  readonly run: () => Promise<void>;
}

/**
 * Runs `tick` every `intervalMs` (measured from the end of one tick to the start of the next,
 * so ticks never overlap) until `tick` returns `'stop'` or {@link RepeatingTask.stop} is
 * called. An optional `early` run goes first, `early.afterMs` after start; a tick due while
 * it runs waits for it. A tick must not throw: it handles its own errors.
 */
export class RepeatingTask {
  readonly #intervalMs: number;
  readonly #tick: () => Promise<'continue' | 'stop'>;
  readonly #early: EarlyRun | undefined;
  #timer: NodeJS.Timeout | undefined;
  #earlyTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(intervalMs: number, tick: () => Promise<'continue' | 'stop'>, early?: EarlyRun) {
    this.#intervalMs = intervalMs;
    this.#tick = tick;
    this.#early = early;
  }

  /** Schedules the early run (when given) and the first tick one interval from now. */
  start(): void {
    const early = this.#early;
    if (early !== undefined && early.afterMs < this.#intervalMs) {
      this.#earlyTimer = setTimeout(() => {
        const running: Promise<void> = early.run().then(() => {
          if (this.#running === running) this.#running = undefined;
        });
        this.#running = running;
      }, early.afterMs);
    }
    this.#schedule();
  }

  /** Cancels what is scheduled and waits for a run in progress, so nothing runs after it resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#earlyTimer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = Promise.resolve(this.#running)
        .then(() => this.#tick())
        .then((next) => {
          this.#running = undefined;
          if (next === 'continue') this.#schedule();
        });
    }, this.#intervalMs);
  }
}
