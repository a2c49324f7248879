import type { QueueName } from '../job-plane/queue-settings.js';
import type { BlobStore } from './blob-store.js';
import type { JobQueue } from './job-queue.js';
import type { JobChangeFeed, JobChangeSignal, JobStore } from './job-store.js';
import type { SecretStore } from './secret-store.js';

/** The buckets of the job plane (DESIGN.md section 5). */
export interface JobPlaneBlobs {
  /** Discovery outputs and step results; kept 7 days. */
  readonly results: BlobStore;
  /** Step logs, appended live; kept 90 days. */
  readonly logs: BlobStore;
  /** Short-lived hand-offs; kept 1 day. */
  readonly staging: BlobStore;
}

/**
 * Everything dispatchers and workers share to hand work over and report on it, on one backend
 * (AWS or embedded). Built once per process by a factory; `close()` releases it all.
 */
export interface JobPlane {
  readonly queues: Readonly<Record<QueueName, JobQueue>>;
  /** The dead-letter queue of each job queue, where the backend exposes it. */
  readonly deadLetters: Readonly<Partial<Record<QueueName, JobQueue>>>;
  readonly jobs: JobStore;
  /** The jobs' change feed, for the reconciler. */
  readonly changes: JobChangeFeed;
  /** Wakes waiters at a job's changes, where the backend can (the embedded one). */
  readonly jobChanges?: JobChangeSignal;
  readonly blobs: JobPlaneBlobs;
  readonly secrets: SecretStore;
  /** Stops timers and servers and releases clients; idempotent. */
  close(): Promise<void>;
}
