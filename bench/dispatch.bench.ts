import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, sdkEnvironment } from '../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../adapters/aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from '../adapters/job-plane/aws-job-plane.js';
import { createEmbeddedJobPlane } from '../adapters/job-plane/embedded-job-plane.js';
import { loadAwsJobPlaneConfig } from '../config/job-plane-environment.js';
import { taskJobId, type JobMessage, type JobRecord } from '../core/contracts/jobs.js';
import { QUEUE_SETTINGS } from '../core/job-plane/queue-settings.js';
import type { JobPlane } from '../core/ports/job-plane.js';
import {
  DEFAULT_POLL_INTERVAL,
  dispatchJob,
  type PollInterval,
} from '../dispatcher/dispatch-job.js';
import { createTestRepository } from '../test/support/git-repository.js';
import { RoutingStepExecutor } from '../workers/executors/routing-step-executor.js';
import { StepSecretResolver } from '../workers/executors/secret-resolver.js';
import type { StepExecutor } from '../workers/executors/step-executor.js';
import { ShellExecutor } from '../workers/executors/shell-executor.js';
import { createTaskJobHandler } from '../workers/jobs/task-job-handler.js';
import { RepositoryCache, type RepositoryCacheEvent } from '../workers/repository-cache/index.js';
import type { JobHandler } from '../workers/runtime/job-handler.js';
import { JobWorker } from '../workers/runtime/job-worker.js';
import { silentWorkerLogger } from '../workers/runtime/worker-logger.js';
import { percentile, type BenchContext, type BenchSuite } from './harness.js';

const LATENCY_JOBS = 20;
const THROUGHPUT_JOBS = 200;
const THROUGHPUT_WORKERS = 4;
/** Job lives (create, claim, read, complete) that warm the job store up before measuring. */
const WARM_UP_JOBS = 250;
/**
 * The latency phase has one job in flight, so its dispatcher may poll hard; 200 dispatchers
 * polling that hard would be what is measured (DynamoDB Local served ~50 reads per job and the
 * workers' writes queued behind them), so the throughput phase polls as production does.
 */
const LATENCY_POLL: PollInterval = { initialMs: 5, maxMs: 50 };

/** Wraps an executor to note when each step's process is about to start. */
class StartRecordingExecutor implements StepExecutor {
  readonly starts = new Map<string, number>();
  constructor(private readonly inner: StepExecutor) {}
  run(request: Parameters<StepExecutor['run']>[0]) {
    this.starts.set(request.env.FORGE_JOB_ID ?? '', performance.now());
    return this.inner.run(request);
  }
}

/**
 * Takes the job store through `WARM_UP_JOBS` job lives, 8 at a time, so the figures measure a
 * warm store: a fresh DynamoDB Local JVM spends 3-4 times more CPU per call on its first
 * thousand or so calls (its JIT compiling) than later. Returns how long it took.
 */
async function warmUp(plane: JobPlane): Promise<number> {
  const started = performance.now();
  const prefix = `warm-${Date.now()}`;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < WARM_UP_JOBS) {
        const runId = `${prefix}-${next}`;
        next += 1;
        const jobId = taskJobId(runId, 'test', 'app');
        await plane.jobs.create({ job_id: jobId, run_id: runId, type: 'task' });
        await plane.jobs.claim(jobId, { workerId: 'warm-up', heartbeatTimeoutMs: 60_000 });
        await plane.jobs.get(jobId);
        await plane.jobs.transition(jobId, 'completed');
      }
    }),
  );
  return performance.now() - started;
}

function taskMessage(runId: string, cloneUrl: string, commit: string): JobMessage {
  return {
    job_id: taskJobId(runId, 'test', 'app'),
    run_id: runId,
    type: 'task',
    repository: { name: 'bench/app', clone_url: cloneUrl },
    commit_sha: commit,
    deadline: new Date(Date.now() + 600_000).toISOString(),
    payload: {
      phase: 'test',
      project: { name: 'app', path: '.' },
      steps: [
        {
          name: 'noop',
          action: 'shell',
          run: 'true',
          priority: 0,
          args: [],
          secrets: [],
          timeout: 60,
        },
      ],
    },
  };
}

async function measure(
  label: string,
  plane: JobPlane,
  context: BenchContext,
  target: number,
): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-dispatch-bench-'));
  const repository = await createTestRepository({ 'README.md': 'bench\n' });
  const commit = await repository.commit('bench');
  const checkouts: Extract<RepositoryCacheEvent, { type: 'checkout' }>[] = [];
  const cache = await RepositoryCache.open({
    cacheDir: join(folder, 'cache'),
    worktreePoolSize: 2,
    onEvent: (event) => {
      if (event.type === 'checkout') checkouts.push(event);
    },
  });
  const executor = new StartRecordingExecutor(
    new RoutingStepExecutor({ shell: new ShellExecutor() }),
  );
  const handler = createTaskJobHandler({
    repositories: cache,
    executor,
    secrets: new StepSecretResolver({ providers: {} }),
    logs: plane.blobs.logs,
    results: plane.blobs.results,
  });
  const worker = (name: string, jobHandler: JobHandler) =>
    new JobWorker({
      workerId: name,
      queue: plane.queues.tasks,
      jobs: plane.jobs,
      handler: jobHandler,
      concurrency: 1,
      visibilityTimeoutSeconds: QUEUE_SETTINGS.tasks.visibilityTimeoutSeconds,
      receiveWaitSeconds: 1,
      logger: silentWorkerLogger,
    });
  let recordReads = 0;
  const dispatcherJobs = {
    create: plane.jobs.create.bind(plane.jobs),
    requestCancel: plane.jobs.requestCancel.bind(plane.jobs),
    get: (jobId: string) => {
      recordReads += 1;
      return plane.jobs.get(jobId);
    },
  };
  const dispatch = (message: JobMessage, pollInterval = LATENCY_POLL) =>
    dispatchJob({
      jobs: dispatcherJobs,
      queue: plane.queues.tasks,
      message,
      deadline: new Date(Date.now() + 600_000),
      pollInterval,
    });
  try {
    const warmUpMs = await warmUp(plane);
    context.note(
      `${label}: job store warmed up by ${WARM_UP_JOBS} job lives in ${warmUpMs.toFixed(0)} ms`,
    );
    // Latency: submission to the step's process start, one job at a time, a warm cache.
    const single = worker('latency', handler);
    await single.start();
    await dispatch(taskMessage(`warm-${Date.now()}`, repository.path, commit));
    checkouts.length = 0;
    const latencies: number[] = [];
    for (let index = 0; index < LATENCY_JOBS; index += 1) {
      const message = taskMessage(`lat-${Date.now()}-${index}`, repository.path, commit);
      const submitted = performance.now();
      await dispatch(message);
      latencies.push((executor.starts.get(message.job_id) ?? Number.NaN) - submitted);
    }
    await single.close();
    const ready = checkouts.filter((event) => event.alreadyAtCommit).length;
    context.note(
      `${label}: checkouts took ${percentile(
        checkouts.map((event) => event.totalMs),
        50,
      ).toFixed(1)} ms (median; lock held ${percentile(
        checkouts.map((event) => event.lockHeldMs),
        50,
      ).toFixed(
        1,
      )} ms), ${ready} of ${checkouts.length} from a worktree kept or parked at the commit`,
    );
    const p50 = percentile(latencies, 50);
    context.report({
      label: `${label}: submission to step start p50 (${LATENCY_JOBS} jobs)`,
      value: p50,
      unit: 'ms',
      target: `<= ${target} ms`,
      met: p50 <= target,
    });
    context.report({
      label: `${label}: submission to step start p95`,
      value: percentile(latencies, 95),
      unit: 'ms',
    });

    // Throughput: no-op jobs (the handler does nothing) through 4 workers, from the first
    // submission to the last job recorded completed (dispatchers notice it up to one poll
    // interval later, 10 s at most).
    const noop: JobHandler = () => Promise.resolve({ status: 'completed' });
    const pool = Array.from({ length: THROUGHPUT_WORKERS }, (_, index) =>
      worker(`noop-${index}`, noop),
    );
    await Promise.all(pool.map((each) => each.start()));
    recordReads = 0;
    const started = Date.now();
    const records = await Promise.all(
      Array.from({ length: THROUGHPUT_JOBS }, (_, index) =>
        dispatch(
          taskMessage(`tp-${Date.now()}-${index}`, repository.path, commit),
          DEFAULT_POLL_INTERVAL,
        ),
      ),
    );
    const lastCompleted = Math.max(...records.map(completedAt));
    const seconds = (lastCompleted - started) / 1000;
    await Promise.all(pool.map((each) => each.close()));
    context.note(
      `${label}: dispatchers read job records ${(recordReads / THROUGHPUT_JOBS).toFixed(1)} times per job`,
    );
    context.report({
      label: `${label}: no-op jobs with ${THROUGHPUT_WORKERS} workers (${THROUGHPUT_JOBS} jobs, dispatch to completed)`,
      value: THROUGHPUT_JOBS / seconds,
      unit: 'ops/s',
    });
  } finally {
    await cache.close();
    await repository.remove();
    await rm(folder, { recursive: true, force: true });
  }
}

/** When a dispatched job was recorded completed; throws for a job that ended otherwise. */
function completedAt(record: JobRecord): number {
  if (record.status !== 'completed' || record.completed_at === undefined) {
    throw new Error(`job ${record.job_id} ended ${record.status}, not completed`);
  }
  return Date.parse(record.completed_at);
}

const suite: BenchSuite = {
  name: 'dispatch',
  async run(context) {
    const folder = await mkdtemp(join(tmpdir(), 'forge-dispatch-plane-'));
    const embedded = await createEmbeddedJobPlane({ dataDirectory: folder });
    try {
      await measure('embedded', embedded, context, 20);
    } finally {
      await embedded.close();
      await rm(folder, { recursive: true, force: true });
    }
    const localAws = await startLocalAws();
    try {
      Object.assign(process.env, sdkEnvironment(localAws.endpoints));
      const provisioned = await provisionLocalJobPlane(localAws.endpoints, `bench-${Date.now()}`);
      const plane = await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
      try {
        await measure('emulators', plane, context, 150);
      } finally {
        await plane.close();
      }
    } finally {
      await localAws.stop();
    }
  },
};

export default suite;
