import type { RunStatusEvent } from '../../core/contracts/status-events.js';
import { errorMessage } from '../../core/errors.js';
import { commitKey, isNewerEvent } from '../../core/github/coalesce-events.js';
import {
  silentFanOutLogger,
  type FanOutLogger,
  type StatusEventDelivery,
} from '../../core/github/status-fan-out.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';

/** Options of {@link EmbeddedStatusEventSink}. */
export interface EmbeddedStatusEventSinkOptions {
  /** The fan-out (a `GitHubStatusFanOut`). */
  readonly delivery: StatusEventDelivery;
  readonly logger?: FanOutLogger;
}

/**
 * The {@link StatusEventSink} of the embedded mode: hands events to the GitHub fan-out in the
 * same process without making the publisher wait. Events wait per commit, only the newest of
 * each commit kept (a commit that moved on while GitHub answered sends its latest state once);
 * one delivery runs at a time; an event GitHub's rate limit deferred is offered again after the
 * time GitHub named, unless a newer one of its commit came meanwhile. Failures are logged, never
 * thrown. {@link close} stops intake, waits for the delivery in flight and drops what waits.
 */
export class EmbeddedStatusEventSink implements StatusEventSink {
  readonly #delivery: StatusEventDelivery;
  readonly #logger: FanOutLogger;
  readonly #pending = new Map<string, RunStatusEvent>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #draining: Promise<void> | undefined;
  #closed = false;

  constructor(options: EmbeddedStatusEventSinkOptions) {
    this.#delivery = options.delivery;
    this.#logger = options.logger ?? silentFanOutLogger;
  }

  /** Queues `events` for the fan-out and returns at once. */
  publish(events: readonly RunStatusEvent[]): Promise<void> {
    if (this.#closed) {
      this.#logger.warn('status events published after close are dropped', {
        count: events.length,
      });
      return Promise.resolve();
    }
    for (const event of events) this.#enqueue(event);
    this.#drain();
    return Promise.resolve();
  }

  /** Resolves once nothing waits for delivery and no delivery runs (deferred retries aside). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Stops intake and retries, waits for the delivery in flight; safe to call more than once. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#pending.size > 0) {
      this.#logger.warn('status events not sent at close', { count: this.#pending.size });
      this.#pending.clear();
    }
    await this.idle();
  }

  #enqueue(event: RunStatusEvent): void {
    const key = commitKey(event);
    const waiting = this.#pending.get(key);
    if (waiting === undefined || isNewerEvent(event, waiting)) this.#pending.set(key, event);
  }

  #drain(): void {
    this.#draining ??= this.#deliverPending().finally(() => {
      this.#draining = undefined;
      if (this.#pending.size > 0) this.#drain();
    });
  }

  async #deliverPending(): Promise<void> {
    // Let the publisher's current turn finish, so events published together go together.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#pending.size > 0) {
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      try {
        const result = await this.#delivery.deliver(batch);
        for (const { event, retryAfterMs } of result.deferred)
          this.#retryLater(event, retryAfterMs);
      } catch (error) {
        this.#logger.error('GitHub status delivery failed', { reason: errorMessage(error) });
      }
    }
  }

  #retryLater(event: RunStatusEvent, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (this.#closed) return;
        this.#enqueue(event);
        this.#drain();
      },
      Math.max(1000, delayMs),
    );
    timer.unref();
    this.#timers.add(timer);
  }
}
