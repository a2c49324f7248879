import type { JobRecord } from '../core/contracts/jobs.js';
import type { JobChangeSignal } from '../core/ports/job-store.js';
import type { JobStatus } from '../core/statuses.js';

/**
 * The pauses between reads of one job's record. Each ends after its time, when the caller's
 * signal aborts, or, on a plane that signals job changes, as soon as the job's status differs
 * from the record last read. A signal that woke a pause though the status stayed what it was
 * (a store that is closing wakes every waiter, and at once from then on) is not waited on
 * again: the reads go on by time alone instead of spinning.
 */
export class JobStatusWait {
  readonly #jobId: string;
  #changes: JobChangeSignal | undefined;
  /** The status the signal last woke a pause at, to tell a change from a spurious wake. */
  #wokenAt: JobStatus | undefined;

  constructor(jobId: string, changes: JobChangeSignal | undefined) {
    this.#jobId = jobId;
    this.#changes = changes;
  }

  /** Waits `ms`, or less (see {@link JobStatusWait}); `last` is the record last read. */
  async pause(last: JobRecord, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#wokenAt === last.status) this.#changes = undefined;
    this.#wokenAt = undefined;
    // One signal ends whichever of the two waits loses, and follows the caller's abort.
    const done = new AbortController();
    const follow = (): void => done.abort(PAUSE_OVER);
    signal?.addEventListener('abort', follow, { once: true });
    if (signal?.aborted === true) follow();
    try {
      const timedOut = sleep(ms, done.signal).then(() => false);
      const changes = this.#changes;
      if (changes === undefined) {
        await timedOut;
        return;
      }
      const changed = changes
        .nextStatusChange(this.#jobId, done.signal, last.status)
        .then(() => !done.signal.aborted);
      if (await Promise.race([timedOut, changed])) this.#wokenAt = last.status;
    } finally {
      signal?.removeEventListener('abort', follow);
      done.abort(PAUSE_OVER);
    }
  }
}

/**
 * The reason a pause's own signal is aborted with: an abort without a reason builds a
 * `DOMException` with its stack, which a hundred dispatches waiting at once paid for on every
 * poll.
 */
const PAUSE_OVER = Symbol('pause over');

/** Waits `ms`; resolves early when `signal` aborts (the caller notices the abort itself). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
