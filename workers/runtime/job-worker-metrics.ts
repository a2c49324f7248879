import type { JobType } from '../../core/statuses.js';

/** What became of one received job message, as the worker counts it. */
export const JobDisposition = {
  /** Recorded `completed` by this worker. */
  completed: 'completed',
  /** Recorded `failed` (by the handler, or because its deadline passed). */
  failed: 'failed',
  /** Recorded `cancelled` (cancel requested before or while it ran). */
  cancelled: 'cancelled',
  /** The handler threw, or a backend failed: the message was handed back or left to return. */
  errored: 'errored',
  /** Handed back unfinished because the worker was shutting down. */
  released: 'released',
  /** Already terminal when received (a redelivery): deleted without running. */
  duplicate: 'duplicate',
  /** Running under a live worker when received (a duplicate delivery): left alone. */
  held: 'held',
  /** Taken over by another worker while this one ran it: left to the new owner. */
  superseded: 'superseded',
} as const;
/** One of {@link JobDisposition}. */
export type JobDisposition = (typeof JobDisposition)[keyof typeof JobDisposition];

/** One job message dealt with: `durationSeconds` is set when the handler ran. */
export interface JobDispositionRecord {
  readonly queue: string;
  readonly type: JobType;
  readonly disposition: JobDisposition;
  readonly durationSeconds?: number;
}

/**
 * The slice of the metrics a worker feeds; `WorkerMetrics` (workers/metrics) implements it
 * with Prometheus, tests and callers without metrics use {@link noJobWorkerMetrics}.
 */
export interface JobWorkerMetrics {
  recordJob(record: JobDispositionRecord): void;
  /** The jobs the worker holds now, and its concurrency, after every change. */
  setInFlight(queue: string, inFlight: number, concurrency: number): void;
  /** Time from a job's submission (its record's `created_at`) to its first receipt. */
  observeReceiveLatency(queue: string, seconds: number): void;
  /** A message that is not a valid job message was received (and left to dead-letter). */
  recordInvalidMessage(queue: string): void;
}

/** Metrics that go nowhere. */
export const noJobWorkerMetrics: JobWorkerMetrics = {
  recordJob: () => undefined,
  setInFlight: () => undefined,
  observeReceiveLatency: () => undefined,
  recordInvalidMessage: () => undefined,
};
