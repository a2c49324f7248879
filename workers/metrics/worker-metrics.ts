import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobDispositionRecord, JobWorkerMetrics } from '../runtime/job-worker-metrics.js';

/** The caches whose lookups job handlers report. */
export const CacheName = {
  /** The bare-clone repository cache (workers/repository-cache). */
  repository: 'repository',
  /** Parsed CUE configurations, keyed by content hash. */
  config: 'config',
} as const;
/** One of {@link CacheName}. */
export type CacheName = (typeof CacheName)[keyof typeof CacheName];

/** The slice of the metrics a job handler feeds: one call per cache lookup. */
export interface CacheLookupRecorder {
  recordCacheLookup(cache: CacheName, hit: boolean, count?: number): void;
}

/** A recorder that goes nowhere, for handlers run without metrics. */
export const noCacheLookupRecorder: CacheLookupRecorder = { recordCacheLookup: () => undefined };

/** Options of {@link WorkerMetrics}; every field has a default. */
export interface WorkerMetricsOptions {
  /** Labels put on every series, such as `{ pool: 'task' }`; default none. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag, GC); default true. */
  readonly processMetrics?: boolean;
}

/** Job durations, from a few seconds (discovery) to the tasks queue's hours. */
const JOB_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400];
/** Time from submission to pickup: sub-second on an idle pool, minutes on a saturated one. */
const RECEIVE_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The Prometheus metrics of a worker process, in a registry of its own (never prom-client's
 * global one, so several workers or tests in one process do not collide):
 *
 * - `forge_worker_jobs_total{queue,type,outcome}`: messages dealt with, by `JobDisposition`
 *   (`completed`, `failed`, `cancelled`, `errored`, `released`, `duplicate`);
 * - `forge_worker_job_duration_seconds{queue,type,outcome}`: handler run time, for jobs whose
 *   handler ran;
 * - `forge_worker_jobs_in_flight{queue}` and `forge_worker_pool_utilization_ratio{queue}`
 *   (in flight / concurrency);
 * - `forge_worker_receive_latency_seconds{queue}`: time from a job's submission (its record's
 *   `created_at`, written by the dispatcher just before it sends the message) to its first
 *   receipt by a worker. Chosen over the duration of a receive call, which mostly measures
 *   how long an idle worker long-polls; this one grows when the pool is too small, and is what
 *   autoscaling and alerts want. Redeliveries are not observed (their age includes earlier
 *   attempts);
 * - `forge_worker_invalid_messages_total{queue}`: messages that are not job messages;
 * - `forge_worker_cache_lookups_total{cache,result}`: repository and CUE cache hits and misses,
 *   counted by job handlers through {@link WorkerMetrics.recordCacheLookup};
 * - `forge_worker_worktree_releases_total{result}`: worktrees jobs gave back, `restored` by git
 *   or kept `untouched` (the job changed nothing, so git was skipped); a low share untouched
 *   is normal for builds that write outputs into their worktree;
 * - `forge_worker_worktree_snapshots_total`: snapshots taken of restored worktrees, which
 *   let their next untouched release skip git;
 * - prom-client's default process metrics (`process_*`, `nodejs_*`) unless turned off.
 */
export class WorkerMetrics implements JobWorkerMetrics, CacheLookupRecorder {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();
  readonly #jobs: Counter<'queue' | 'type' | 'outcome'>;
  readonly #jobDuration: Histogram<'queue' | 'type' | 'outcome'>;
  readonly #inFlight: Gauge<'queue'>;
  readonly #utilization: Gauge<'queue'>;
  readonly #receiveLatency: Histogram<'queue'>;
  readonly #invalidMessages: Counter<'queue'>;
  readonly #cacheLookups: Counter<'cache' | 'result'>;
  readonly #worktreeReleases: Counter<'result'>;
  readonly #worktreeSnapshots: Counter;

  constructor(options: WorkerMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultLabels !== undefined) {
      this.registry.setDefaultLabels({ ...options.defaultLabels });
    }
    this.#jobs = new Counter({
      name: 'forge_worker_jobs_total',
      help: 'Job messages dealt with, by queue, job type and outcome.',
      labelNames: ['queue', 'type', 'outcome'] as const,
      registers,
    });
    this.#jobDuration = new Histogram({
      name: 'forge_worker_job_duration_seconds',
      help: 'Time a job handler ran, by queue, job type and outcome.',
      labelNames: ['queue', 'type', 'outcome'] as const,
      buckets: JOB_DURATION_BUCKETS,
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'forge_worker_jobs_in_flight',
      help: 'Jobs a worker holds now (claimed, running, or being recorded).',
      labelNames: ['queue'] as const,
      registers,
    });
    this.#utilization = new Gauge({
      name: 'forge_worker_pool_utilization_ratio',
      help: 'Jobs in flight divided by the worker concurrency (0 to 1).',
      labelNames: ['queue'] as const,
      registers,
    });
    this.#receiveLatency = new Histogram({
      name: 'forge_worker_receive_latency_seconds',
      help: "Time from a job's submission (its record's created_at) to its first receipt.",
      labelNames: ['queue'] as const,
      buckets: RECEIVE_LATENCY_BUCKETS,
      registers,
    });
    this.#invalidMessages = new Counter({
      name: 'forge_worker_invalid_messages_total',
      help: 'Received messages that are not valid job messages (left to dead-letter).',
      labelNames: ['queue'] as const,
      registers,
    });
    this.#cacheLookups = new Counter({
      name: 'forge_worker_cache_lookups_total',
      help: 'Cache lookups by job handlers, by cache (repository, config) and result (hit, miss).',
      labelNames: ['cache', 'result'] as const,
      registers,
    });
    this.#worktreeReleases = new Counter({
      name: 'forge_worker_worktree_releases_total',
      help: 'Worktrees given back by jobs, by result: restored by git, or kept untouched.',
      labelNames: ['result'] as const,
      registers,
    });
    this.#worktreeSnapshots = new Counter({
      name: 'forge_worker_worktree_snapshots_total',
      help: 'Snapshots taken of restored worktrees, so that an untouched release skips git.',
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of {@link WorkerMetrics.metrics}: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  recordJob(record: JobDispositionRecord): void {
    const labels = { queue: record.queue, type: record.type, outcome: record.disposition };
    this.#jobs.inc(labels);
    if (record.durationSeconds !== undefined) {
      this.#jobDuration.observe(labels, record.durationSeconds);
    }
  }

  setInFlight(queue: string, inFlight: number, concurrency: number): void {
    this.#inFlight.set({ queue }, inFlight);
    this.#utilization.set({ queue }, concurrency > 0 ? inFlight / concurrency : 0);
  }

  observeReceiveLatency(queue: string, seconds: number): void {
    this.#receiveLatency.observe({ queue }, seconds);
  }

  recordInvalidMessage(queue: string): void {
    this.#invalidMessages.inc({ queue });
  }

  /** Counts lookups (one by default) in the repository cache or the CUE configuration cache. */
  recordCacheLookup(cache: CacheName, hit: boolean, count = 1): void {
    if (count > 0) this.#cacheLookups.inc({ cache, result: hit ? 'hit' : 'miss' }, count);
  }

  /** Counts a worktree given back: `restored` by git, or kept as the job left it. */
  recordWorktreeRelease(restored: boolean): void {
    this.#worktreeReleases.inc({ result: restored ? 'restored' : 'untouched' });
  }

  /** Counts a snapshot taken of a restored worktree. */
  recordWorktreeSnapshot(): void {
    this.#worktreeSnapshots.inc();
  }
}
