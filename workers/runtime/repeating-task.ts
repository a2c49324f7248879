/**
 * Runs `tick` every `intervalMs` (measured from the end of one tick to the start of the next,
 * so ticks never overlap) until `tick` returns `'stop'` or {@link RepeatingTask.stop} is
 * called. A tick must not throw: it handles its own errors.
 */
export class RepeatingTask {
  readonly #intervalMs: number;
  readonly #tick: () => Promise<'continue' | 'stop'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(intervalMs: number, tick: () => Promise<'continue' | 'stop'>) {
    this.#intervalMs = intervalMs;
    this.#tick = tick;
  }

  /** Schedules the first tick one interval from now. */
  start(): void {
    this.#schedule();
  }

  /** Cancels the next tick and waits for one in progress, so nothing runs after it resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().then((next) => {
        this.#running = undefined;
        if (next === 'continue') this.#schedule();
      });
    }, this.#intervalMs);
  }
}
