/**
 * Conditional status updates per second through the `JobStore` port: each job goes
 * `pending → running → completed`, two conditional transitions (each one conditional
 * UpdateItem on DynamoDB), one writer at a time and then several at once. Runs against
 * DynamoDB Local (started here, in memory) and against the embedded store, with and without a
 * change-feed subscriber.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { DynamoJobStore } from '../adapters/aws/dynamo-job-store.js';
import { startDynamoDbLocal } from '../adapters/aws/emulators/dynamodb-local.js';
import { LOCAL_AWS_CREDENTIALS } from '../adapters/aws/emulators/local-aws.js';
import { sdkClientConfig } from '../adapters/aws/aws-client-config.js';
import { createJobsTable } from '../adapters/aws/job-plane-resources.js';
import { EmbeddedJobStore } from '../adapters/embedded/embedded-job-store.js';
import { taskJobId } from '../core/contracts/jobs.js';
import type { JobStore } from '../core/ports/job-store.js';
import type { BenchContext, BenchSuite } from './harness.js';

const DYNAMO_JOBS = { sequential: 250, concurrent: 1000 };
const EMBEDDED_JOBS = { sequential: 20_000, concurrent: 20_000 };
const CONCURRENCY = 16;

/** Creates `count` pending jobs of a new run and returns their ids. */
async function createJobs(store: JobStore, count: number): Promise<string[]> {
  const runId = `run-${randomUUID().slice(0, 8)}`;
  const ids = Array.from({ length: count }, (_, index) =>
    taskJobId(runId, 'build', `project-${index}`),
  );
  await runPool(ids, CONCURRENCY, (job_id) =>
    store.create({ job_id, run_id: runId, type: 'task' }),
  );
  return ids;
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next] as T;
        next += 1;
        await work(item);
      }
    }),
  );
}

/** Moves every job to running then completed; returns applied transitions per second. */
async function transitionsPerSecond(
  store: JobStore,
  jobs: number,
  concurrency: number,
): Promise<number> {
  const ids = await createJobs(store, jobs);
  const started = performance.now();
  await runPool(ids, concurrency, async (jobId) => {
    for (const status of ['running', 'completed'] as const) {
      const result = await store.transition(jobId, status, { worker_id: 'bench' });
      if (result.outcome !== 'applied') throw new Error(`${jobId} → ${status}: ${result.outcome}`);
    }
  });
  return (ids.length * 2) / ((performance.now() - started) / 1000);
}

async function measure(
  context: BenchContext,
  name: string,
  store: JobStore,
  jobs: { sequential: number; concurrent: number },
): Promise<void> {
  // Warm-up: connections, JIT, and DynamoDB Local's JVM.
  await transitionsPerSecond(store, Math.min(100, jobs.sequential), CONCURRENCY);
  context.report({
    label: `${name}: conditional transitions, sequential (${jobs.sequential * 2} updates)`,
    value: await transitionsPerSecond(store, jobs.sequential, 1),
    unit: 'ops/s',
  });
  context.report({
    label: `${name}: conditional transitions, ${CONCURRENCY} writers (${jobs.concurrent * 2} updates)`,
    value: await transitionsPerSecond(store, jobs.concurrent, CONCURRENCY),
    unit: 'ops/s',
  });
}

/** Ten writers race each job to running; returns decided attempts per second. */
async function contendedAttemptsPerSecond(store: JobStore, jobs: number): Promise<number> {
  const ids = await createJobs(store, jobs);
  const started = performance.now();
  for (const jobId of ids) {
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () => store.transition(jobId, 'running')),
    );
    const applied = attempts.filter((attempt) => attempt.outcome === 'applied').length;
    if (applied !== 1) throw new Error(`${jobId}: ${applied} of 10 racing transitions applied`);
  }
  return (ids.length * 10) / ((performance.now() - started) / 1000);
}

const suite: BenchSuite = {
  name: 'job-store',
  async run(context) {
    context.note('starting DynamoDB Local (in memory)');
    const local = await startDynamoDbLocal(LOCAL_AWS_CREDENTIALS);
    const client = new DynamoDBClient(
      sdkClientConfig({
        ...LOCAL_AWS_CREDENTIALS,
        endpoint: local.endpoint,
        credentials: LOCAL_AWS_CREDENTIALS,
      }),
    );
    try {
      const tableName = `bench-jobs-${randomUUID().slice(0, 8)}`;
      await createJobsTable(client, tableName);
      const dynamo = new DynamoJobStore({ tableName, client });
      await measure(context, 'DynamoDB Local', dynamo, DYNAMO_JOBS);
      context.report({
        label: 'DynamoDB Local: 10 writers racing each job to running (exactly one applied)',
        value: await contendedAttemptsPerSecond(dynamo, 50),
        unit: 'ops/s',
      });
    } finally {
      client.destroy();
      await local.stop();
    }

    const embedded = new EmbeddedJobStore();
    await measure(context, 'embedded', embedded, EMBEDDED_JOBS);
    await embedded.close();

    const fed = new EmbeddedJobStore();
    let records = 0;
    const unsubscribe = fed.subscribe((event) => {
      records += event.Records.length;
      return Promise.resolve();
    });
    await measure(context, 'embedded with a change-feed subscriber', fed, EMBEDDED_JOBS);
    await unsubscribe();
    await fed.close();
    context.note(`change feed delivered ${records} records`);
  },
};

export default suite;
