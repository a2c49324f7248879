import { join } from 'node:path';
import { createEmbeddedJobPlane } from '../adapters/job-plane/embedded-job-plane.js';
import {
  ForgeEnvironmentSchema,
  MAX_WORKTREE_POOL,
  type ForgeEnvironment,
} from '../config/forge-environment.js';
import { WorkerEnvironmentSchema, type WorkerEnvironment } from '../config/worker-environment.js';
import type { JobPlane } from '../core/ports/job-plane.js';
import type { DispatcherLogger } from '../dispatcher/dispatcher-logger.js';
import { silentWorkerLogger, type WorkerLogger } from '../workers/runtime/worker-logger.js';
import { startWorkerPool, WorkerPoolName, type RunningWorkerPool } from '../workers/worker-pool.js';
import {
  EmbeddedWorkflowEngine,
  type EmbeddedWorkflowEngineOptions,
} from './embedded-workflow-engine.js';
import { DEFAULT_EMBEDDED_TASK_CONCURRENCY } from './embedded-defaults.js';
import type { EngineEvent } from './run-outcome.js';

export { DEFAULT_EMBEDDED_TASK_CONCURRENCY };

/** Options of {@link EmbeddedPipeline.start}. */
export interface EmbeddedPipelineOptions {
  /** Blobs (results, logs) go under `<dataDirectory>/blobs`, the repository cache under `repositories`. */
  readonly dataDirectory: string;
  /** Task jobs run at once; default {@link DEFAULT_EMBEDDED_TASK_CONCURRENCY}. */
  readonly taskConcurrency?: number;
  /** Discovery jobs run at once; default 2. */
  readonly discoveryConcurrency?: number;
  /** A JSON file of the secrets steps may name (`{ "path": "value" }`). */
  readonly secretsFile?: string | undefined;
  /** The process's `FORGE_` settings (caches); the data directory's folders when absent. */
  readonly forge?: Partial<ForgeEnvironment>;
  /** Worker settings beyond concurrency (step timeout, Earthly runners, ...). */
  readonly worker?: Partial<WorkerEnvironment>;
  readonly workerLogger?: WorkerLogger;
  readonly engine?: Pick<
    EmbeddedWorkflowEngineOptions,
    'runDeadlineMs' | 'jobTimeouts' | 'pollInterval' | 'stopWaitMs' | 'retainEndedRuns'
  >;
  readonly engineLogger?: DispatcherLogger;
  readonly onEvent?: (event: EngineEvent) => void;
}

/**
 * The whole job side of the embedded mode in one process: the in-process job plane, a
 * discovery pool and a task pool (the same worker code as the pods, on in-process queues)
 * and the in-process workflow engine. `close()` cancels runs still going, drains the pools
 * and releases the plane.
 */
export class EmbeddedPipeline {
  readonly plane: JobPlane;
  readonly engine: EmbeddedWorkflowEngine;
  readonly #pools: readonly RunningWorkerPool[];
  #closing: Promise<void> | undefined;

  private constructor(
    plane: JobPlane,
    engine: EmbeddedWorkflowEngine,
    pools: readonly RunningWorkerPool[],
  ) {
    this.plane = plane;
    this.engine = engine;
    this.#pools = pools;
  }

  /** Starts the plane and both pools; what started is closed again if a later part fails. */
  static async start(options: EmbeddedPipelineOptions): Promise<EmbeddedPipeline> {
    const plane = await createEmbeddedJobPlane({
      dataDirectory: options.dataDirectory,
      secretsFile: options.secretsFile,
    });
    const pools: RunningWorkerPool[] = [];
    try {
      const forge: ForgeEnvironment = {
        ...ForgeEnvironmentSchema.parse({
          FORGE_REPOSITORY_CACHE_DIR: join(options.dataDirectory, 'repositories'),
          // Two kept worktrees per task slot: a slot's next job takes one that is ready while
          // the worktree of its last job is restored beside it.
          FORGE_REPOSITORY_CACHE_WORKTREE_POOL: String(
            Math.min(
              MAX_WORKTREE_POOL,
              2 * (options.taskConcurrency ?? DEFAULT_EMBEDDED_TASK_CONCURRENCY),
            ),
          ),
        }),
        ...options.forge,
      };
      const logger = options.workerLogger ?? silentWorkerLogger;
      for (const [pool, concurrency] of [
        [WorkerPoolName.discovery, options.discoveryConcurrency ?? 2],
        [WorkerPoolName.task, options.taskConcurrency ?? DEFAULT_EMBEDDED_TASK_CONCURRENCY],
      ] as const) {
        const worker: WorkerEnvironment = {
          ...WorkerEnvironmentSchema.parse({
            FORGE_WORKER_ID: `embedded-${pool}-${process.pid}`,
            // The pools serve no probes in one process; an ephemeral port keeps runs apart.
            FORGE_HEALTH_PORT: '0',
            // In-process queues wake a waiting receive at once; a short wait keeps close() quick.
            FORGE_WORKER_RECEIVE_WAIT: '1',
          }),
          ...options.worker,
          FORGE_WORKER_CONCURRENCY: concurrency,
        };
        pools.push(await startWorkerPool({ pool, plane, forge, worker, logger }));
      }
    } catch (error) {
      for (const pool of pools) await pool.close();
      await plane.close();
      throw error;
    }
    const engine = new EmbeddedWorkflowEngine({
      ...options.engine,
      plane,
      releases: false,
      logger: options.engineLogger,
      onEvent: options.onEvent,
    });
    return new EmbeddedPipeline(plane, engine, pools);
  }

  /** Cancels runs still going, drains the pools, then releases the plane; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.engine.close();
      for (const pool of this.#pools) await pool.close();
      await this.plane.close();
    })();
    return this.#closing;
  }
}
