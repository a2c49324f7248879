import { WasmCueEvaluator } from '../adapters/cue/wasm-cue-evaluator.js';
import type { ForgeEnvironment } from '../config/forge-environment.js';
import type { WorkerEnvironment } from '../config/worker-environment.js';
import { QUEUE_SETTINGS, QueueName } from '../core/job-plane/queue-settings.js';
import type { JobPlane } from '../core/ports/job-plane.js';
import { CachingConfigEvaluator } from '../discovery/caching-config-evaluator.js';
import { BuildkitRunnerPool } from './executors/buildkit-runner-pool.js';
import { BuildkitTlsFiles } from './executors/buildkit-tls-files.js';
import { EarthlyExecutor } from './executors/earthly-executor.js';
import {
  RoutingStepExecutor,
  type StepExecutorsByAction,
} from './executors/routing-step-executor.js';
import { StepSecretResolver } from './executors/secret-resolver.js';
import { ShellExecutor } from './executors/shell-executor.js';
import { createDiscoveryJobHandler } from './jobs/discovery-job-handler.js';
import { createTaskJobHandler } from './jobs/task-job-handler.js';
import { HealthServer } from './metrics/health-server.js';
import { CacheName, WorkerMetrics } from './metrics/worker-metrics.js';
import { RepositoryCache, RepositoryCacheEventType } from './repository-cache/index.js';
import type { JobHandler } from './runtime/job-handler.js';
import { JobWorker } from './runtime/job-worker.js';
import type { WorkerLogger } from './runtime/worker-logger.js';

/** The worker pools, by the queue they take jobs from. */
export const WorkerPoolName = { discovery: 'discovery', task: 'task' } as const;
export type WorkerPoolName = (typeof WorkerPoolName)[keyof typeof WorkerPoolName];

const POOL_QUEUE: Readonly<Record<WorkerPoolName, QueueName>> = {
  discovery: QueueName.discovery,
  task: QueueName.tasks,
};

/** Jobs at once when nothing says otherwise: discovery is light, tasks are builds. */
const DEFAULT_CONCURRENCY: Readonly<Record<WorkerPoolName, number>> = { discovery: 4, task: 2 };

export interface WorkerPoolOptions {
  readonly pool: WorkerPoolName;
  readonly plane: JobPlane;
  readonly forge: ForgeEnvironment;
  readonly worker: WorkerEnvironment;
  readonly logger: WorkerLogger;
}

/** A running worker pool process's parts; `close()` drains and releases them in order. */
export interface RunningWorkerPool {
  readonly worker: JobWorker;
  readonly health: HealthServer;
  close(): Promise<void>;
}

/**
 * Assembles and starts one worker pool process: the repository cache, the pool's job handler
 * (discovery: the CUE evaluator with its cache; task: the shell executor, and the Earthly one
 * when BuildKit runners are configured), the job worker on the pool's queue, and the health
 * and metrics server. `close()` stops intake, lets running jobs finish within the grace
 * period, then closes the server, the cache and the evaluator.
 */
export async function startWorkerPool(options: WorkerPoolOptions): Promise<RunningWorkerPool> {
  const { pool, plane, forge, worker: settings, logger } = options;
  const metrics = new WorkerMetrics({ defaultLabels: { pool } });
  const repositories = await RepositoryCache.open({
    cacheDir: forge.FORGE_REPOSITORY_CACHE_DIR,
    maxSizeBytes: forge.FORGE_REPOSITORY_CACHE_MAX_SIZE,
    worktreePoolSize: forge.FORGE_REPOSITORY_CACHE_WORKTREE_POOL,
    logger,
    onEvent: (event) => {
      if (event.type === RepositoryCacheEventType.Hit)
        metrics.recordCacheLookup(CacheName.repository, true);
      if (
        event.type === RepositoryCacheEventType.Clone ||
        event.type === RepositoryCacheEventType.Fetch
      ) {
        metrics.recordCacheLookup(CacheName.repository, false);
      }
      if (event.type === RepositoryCacheEventType.Release) {
        metrics.recordWorktreeRelease(event.restored);
      }
      if (event.type === RepositoryCacheEventType.Snapshot) metrics.recordWorktreeSnapshot();
    },
  });
  const releases: (() => Promise<void>)[] = [() => repositories.close()];
  let handler: JobHandler;
  if (pool === WorkerPoolName.discovery) {
    const evaluator = new CachingConfigEvaluator(new WasmCueEvaluator(), {
      directory: forge.FORGE_CONFIG_CACHE_DIR,
    });
    releases.push(() => evaluator.close());
    const discover = createDiscoveryJobHandler({
      repositories,
      evaluator,
      results: plane.blobs.results,
    });
    handler = async (message, context) => {
      const before = { ...evaluator.stats };
      try {
        return await discover(message, context);
      } finally {
        const { hits, misses } = evaluator.stats;
        metrics.recordCacheLookup(CacheName.config, true, hits - before.hits);
        metrics.recordCacheLookup(CacheName.config, false, misses - before.misses);
      }
    };
  } else {
    const executors: StepExecutorsByAction = { shell: new ShellExecutor() };
    if (settings.FORGE_BUILDKIT_HOSTS.length > 0) {
      const tls = buildkitTls(settings, plane);
      if (tls) releases.push(() => tls.close());
      executors.earthly = new EarthlyExecutor({
        runners: new BuildkitRunnerPool({ addresses: settings.FORGE_BUILDKIT_HOSTS }),
        ...(settings.FORGE_EARTHLY_BINARY === undefined
          ? {}
          : { binary: settings.FORGE_EARTHLY_BINARY }),
        ...(tls === undefined ? {} : { tls }),
      });
    }
    handler = createTaskJobHandler({
      repositories,
      executor: new RoutingStepExecutor(executors),
      secrets: new StepSecretResolver({ providers: { aws: plane.secrets } }),
      logs: plane.blobs.logs,
      results: plane.blobs.results,
      defaultStepTimeoutSeconds: settings.FORGE_STEP_DEFAULT_TIMEOUT,
    });
  }

  const queueName = POOL_QUEUE[pool];
  const worker = new JobWorker({
    workerId: settings.FORGE_WORKER_ID,
    queue: plane.queues[queueName],
    jobs: plane.jobs,
    handler,
    concurrency: settings.FORGE_WORKER_CONCURRENCY ?? DEFAULT_CONCURRENCY[pool],
    visibilityTimeoutSeconds:
      settings.FORGE_WORKER_VISIBILITY_TIMEOUT ??
      QUEUE_SETTINGS[queueName].visibilityTimeoutSeconds,
    shutdownGraceMs: settings.FORGE_SHUTDOWN_GRACE * 1000,
    receiveWaitSeconds: settings.FORGE_WORKER_RECEIVE_WAIT,
    logger,
    metrics,
  });
  const health = await HealthServer.start({
    host: settings.FORGE_HEALTH_HOST,
    port: settings.FORGE_HEALTH_PORT,
    probes: [worker],
    metrics,
    logger,
  });
  await worker.start();
  logger.info('worker pool started', { queue: queueName, health: health.url });
  let closing: Promise<void> | undefined;
  return {
    worker,
    health,
    close() {
      closing ??= (async () => {
        await worker.close();
        await health.close();
        for (const release of releases) await release();
      })();
      return closing;
    },
  };
}

/** The runners' TLS files, from the secrets the configuration names (all three, or none). */
function buildkitTls(settings: WorkerEnvironment, plane: JobPlane): BuildkitTlsFiles | undefined {
  const {
    FORGE_BUILDKIT_TLS_CA_SECRET: ca,
    FORGE_BUILDKIT_TLS_CERT_SECRET: cert,
    FORGE_BUILDKIT_TLS_KEY_SECRET: key,
  } = settings;
  if (ca === undefined || cert === undefined || key === undefined) return undefined;
  return new BuildkitTlsFiles({
    store: plane.secrets,
    caCertPath: ca,
    clientCertPath: cert,
    clientKeyPath: key,
  });
}
