import { JobPlaneOperationError } from '../core/job-plane/job-plane-errors.js';
import type { BlobAppender } from '../core/ports/blob-store.js';

type AppenderState = 'open' | 'closing' | 'closed';

/** When a {@link BufferedBlobAppender} makes appended bytes visible. */
export interface AppenderTiming {
  /** Longest time appended bytes wait for a flush. */
  readonly flushIntervalMs: number;
  /** Flush at once when this many bytes are pending; no such threshold when absent. */
  readonly flushAtBytes?: number;
}

/**
 * What every log appender shares, whatever the backend: appended chunks wait in memory until
 * a flush (a timer after the first unflushed append, a size threshold, or `flush()`); flushes
 * and the close run one at a time; a failed background flush keeps its bytes for the next
 * one; `close()` is idempotent and may be retried after a failure. A backend implements
 * {@link onFlush} and {@link onClose}, taking the pending bytes with {@link writePending}.
 */
export abstract class BufferedBlobAppender implements BlobAppender {
  readonly #timing: AppenderTiming;
  readonly #location: string;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #state: AppenderState = 'open';
  #closing: Promise<void> | undefined;

  protected constructor(timing: AppenderTiming, location: string) {
    this.#timing = timing;
    this.#location = location;
  }

  append(chunk: string | Uint8Array): void {
    if (this.#state !== 'open') {
      throw new JobPlaneOperationError('append', this.#location, 'the log appender is closed');
    }
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk.slice();
    if (bytes.byteLength === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    const threshold = this.#timing.flushAtBytes;
    if (threshold !== undefined && this.#pendingBytes >= threshold) this.#flushInBackground();
    else this.#armTimer();
  }

  flush(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    return this.#serially(() => {
      this.#stopTimer();
      return this.onFlush();
    });
  }

  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'closing';
    this.#stopTimer();
    this.#closing ??= this.#serially(() => this.onClose()).then(
      () => {
        this.#state = 'closed';
      },
      (error: unknown) => {
        this.#closing = undefined;
        throw error;
      },
    );
    return this.#closing;
  }

  /** Whether appends are still accepted (not closing or closed). */
  protected get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Makes the pending bytes visible, one flush at a time. */
  protected abstract onFlush(): Promise<void>;

  /** Flushes the rest and completes the blob. */
  protected abstract onClose(): Promise<void>;

  /**
   * Hands the pending bytes, as one buffer, to `write`; if it fails they stay pending (in
   * order, before anything appended since). Returns how many bytes were written.
   */
  protected async writePending(write: (bytes: Uint8Array) => Promise<void>): Promise<number> {
    if (this.#pendingBytes === 0) return 0;
    const chunks = this.#pending;
    const bytes = Buffer.concat(chunks);
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      await write(bytes);
    } catch (error) {
      this.#pending.unshift(...chunks);
      this.#pendingBytes += bytes.byteLength;
      throw error;
    }
    return bytes.byteLength;
  }

  #armTimer(): void {
    this.#timer ??= setTimeout(() => this.#flushInBackground(), this.#timing.flushIntervalMs);
    this.#timer.unref();
  }

  #flushInBackground(): void {
    this.#stopTimer();
    // Nobody awaits a background flush: after a failure the bytes stay pending for the next.
    this.flush().catch(() => {
      if (this.#state === 'open') this.#armTimer();
    });
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #serially(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
