import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type autocannon from 'autocannon';
import { LocalOidcIssuer } from '../adapters/auth/local-oidc-issuer.js';
import { createEmbeddedJobPlane } from '../adapters/job-plane/embedded-job-plane.js';
import { openPostgres } from '../adapters/postgres/open-postgres.js';
import { PostgresRunRepository } from '../adapters/postgres/postgres-run-repository.js';
import { loadPostgresConfig } from '../config/postgres-environment.js';
import { PrincipalKind } from '../core/ports/authenticator.js';
import { ApiHttpServer } from '../platform/api-http-server.js';
import { GITHUB_AUDIENCE, authenticatorTrusting } from '../test/auth/local-issuer-fixture.js';
import { randomCommitSha } from '../test/support/postgres-run-fixtures.js';
import { RecordingWorkflowEngine } from '../test/support/recording-workflow-engine.js';
import type { BenchContext, BenchSuite } from './harness.js';

const REPOSITORY = 'bench/api';
const POST_RUNS = 1000;
const CONNECTIONS = 50;
const GET_SECONDS = 5;
/**
 * The warm-up before the measured requests: a fresh Node process runs its first seconds of
 * requests unoptimised while V8 compiles the hot paths on the same two cores, so the first
 * thousands answer two to four times slower than the steady state a serving API is in.
 */
const WARM_UP_POST_RUNS = 2000;
const WARM_UP_GET_SECONDS = 2;
const POST_P99_TARGET_MS = 100;
const GET_P99_TARGET_MS = 50;

/**
 * The load generator, run in a worker thread of its own: autocannon parses every response and
 * keeps histograms, and on the server's event loop that work (and its timers) would delay the
 * server's own callbacks and be counted in the server's latency. Plain JavaScript, so the
 * thread needs no TypeScript loader; `bodies`, when given, are sent one per request in turn.
 */
const LOAD_GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const autocannon = require(workerData.autocannon);
const { bodies, ...options } = workerData.options;
let next = 0;
if (bodies !== undefined) {
  options.requests = options.requests.map((request) => ({
    ...request,
    setupRequest: (raw) => ({ ...raw, body: bodies[next++ % bodies.length] }),
  }));
}
const started = performance.now();
let lastAnswered = started;
const instance = autocannon(options);
instance.on('response', () => {
  lastAnswered = performance.now();
});
instance.then(
  (result) =>
    parentPort.postMessage({
      result: autocannon.aggregateResult([result], options),
      answeringMs: lastAnswered - started,
    }),
  (error) => parentPort.postMessage({ error: String(error) }),
);
`;

/** autocannon's result, and the time from its start to the last answer. */
interface LoadResult {
  readonly result: autocannon.Result;
  /**
   * autocannon's own duration ends at its next whole-second tick, which for a fixed number of
   * requests can be half the run again.
   */
  readonly answeringMs: number;
}

/** autocannon's options as they cross to the worker (no functions), and the bodies to send. */
type LoadOptions = Omit<autocannon.Options, 'requests'> & {
  readonly requests?: readonly Omit<autocannon.Request, 'setupRequest'>[];
  readonly bodies?: readonly string[];
};

/** Runs autocannon with `options` in a worker thread and answers its aggregated result. */
async function load(options: LoadOptions): Promise<LoadResult> {
  const worker = new Worker(LOAD_GENERATOR, {
    eval: true,
    workerData: { autocannon: createRequire(import.meta.url).resolve('autocannon'), options },
  });
  try {
    const answer = await new Promise<Partial<LoadResult> & { error?: string }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    if (answer.result === undefined || answer.answeringMs === undefined) {
      throw new Error(`autocannon failed: ${answer.error}`);
    }
    return { result: answer.result, answeringMs: answer.answeringMs };
  } finally {
    await worker.terminate();
  }
}

/** Requests answered per second, from the start to the last answer. */
function throughput({ result, answeringMs }: LoadResult): number {
  return answeringMs > 0 ? (result.requests.total * 1000) / answeringMs : 0;
}

/**
 * The control plane's own latency: `POST /v1/runs` for 1,000 distinct commits at 50
 * connections, then `GET /v1/runs/{id}` for 5 s, with autocannon (in a worker thread) against
 * the local server, real Postgres (embedded, with the product's default pool), real token
 * verification, and an engine that only records submissions so that the figure is the API's,
 * not a workflow's. Both are measured on a warm server (see {@link WARM_UP_POST_RUNS}); the
 * fresh process's figure is printed too, without a target.
 */
async function measure(context: BenchContext): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-bench-api-'));
  await chmod(folder, 0o755);
  const config = loadPostgresConfig({ FORGE_POSTGRES_DATA_DIR: join(folder, 'postgres') });
  const database = await openPostgres(config);
  const issuer = await LocalOidcIssuer.start({ directory: join(folder, 'issuer'), port: 0 });
  const plane = await createEmbeddedJobPlane({ dataDirectory: join(folder, 'plane') });
  const runs = new PostgresRunRepository({ sql: database.sql });
  const quiet = () => undefined;
  const server = await ApiHttpServer.start({
    port: 0,
    deps: {
      runs,
      engine: new RecordingWorkflowEngine(),
      jobs: plane.jobs,
      logs: plane.blobs.logs,
      authenticator: authenticatorTrusting(issuer),
      statusEvents: { publish: () => Promise.resolve() },
      logger: { info: quiet, warn: quiet, error: quiet },
      ready: async () => {
        await database.sql`select 1`;
      },
    },
  });
  try {
    context.note(
      `server and Postgres pool (${config.poolSize} connections) on this process's main ` +
        'thread, autocannon in a worker thread, embedded Postgres in its own processes',
    );
    await runs.registerRepository(REPOSITORY, 'https://github.com/bench/api.git');
    const token = await issuer.sign({
      kind: PrincipalKind.githubActions,
      repository: REPOSITORY,
      audience: GITHUB_AUDIENCE,
      ttlSeconds: 3600,
    });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const postRuns = (amount: number) =>
      load({
        url: server.url,
        connections: CONNECTIONS,
        amount,
        requests: [{ method: 'POST', path: '/v1/runs', headers }],
        bodies: Array.from({ length: amount }, () =>
          JSON.stringify({ repository: REPOSITORY, commit_sha: randomCommitSha(), branch: 'main' }),
        ),
      });

    const { result: cold } = await postRuns(WARM_UP_POST_RUNS);
    context.note(
      `warm-up: ${WARM_UP_POST_RUNS} POSTs of other commits on the fresh process, ` +
        `then ${WARM_UP_GET_SECONDS} s of GETs`,
    );
    context.report({
      label: `POST /v1/runs p99, fresh process (the first ${WARM_UP_POST_RUNS} commits)`,
      value: cold.latency.p99,
      unit: 'ms',
    });
    const [warmUpRun] = (await runs.listRuns({ repository: REPOSITORY, limit: 1, offset: 0 })).runs;
    if (warmUpRun === undefined) throw new Error('the warm-up created no run');
    await load({
      url: `${server.url}/v1/runs/${warmUpRun.id}`,
      connections: CONNECTIONS,
      duration: WARM_UP_GET_SECONDS,
      headers,
    });

    const posting = await postRuns(POST_RUNS);
    const posted = posting.result;
    const created = await runs.listRuns({ repository: REPOSITORY, limit: 1, offset: 0 });
    const createdMeasured = created.total - WARM_UP_POST_RUNS;
    context.note(
      `POST /v1/runs: ${posted.requests.total} requests, ${posted['2xx']} answered 2xx, ` +
        `${posted.non2xx} other, ${posted.errors} errors; ${createdMeasured} runs created`,
    );
    context.report({
      label: 'POST /v1/runs p99 (1,000 commits, 50 connections, warm)',
      value: posted.latency.p99,
      unit: 'ms',
      target: `<= ${POST_P99_TARGET_MS} ms`,
      met:
        posted.latency.p99 <= POST_P99_TARGET_MS &&
        posted.non2xx === 0 &&
        createdMeasured === POST_RUNS,
    });
    context.report({
      label: 'POST /v1/runs throughput',
      value: throughput(posting),
      unit: 'ops/s',
    });

    const runId = created.runs[0]?.id;
    if (runId === undefined) throw new Error('the POST benchmark created no run');
    const reading = await load({
      url: `${server.url}/v1/runs/${runId}`,
      connections: CONNECTIONS,
      duration: GET_SECONDS,
      headers,
    });
    const read = reading.result;
    context.note(`GET /v1/runs/{id}: ${read.requests.total} requests, ${read.non2xx} not 2xx`);
    context.report({
      label: 'GET /v1/runs/{id} p99 (50 connections, warm)',
      value: read.latency.p99,
      unit: 'ms',
      target: `<= ${GET_P99_TARGET_MS} ms`,
      met: read.latency.p99 <= GET_P99_TARGET_MS && read.non2xx === 0,
    });
    context.report({
      label: 'GET /v1/runs/{id} throughput',
      value: throughput(reading),
      unit: 'ops/s',
    });
  } finally {
    await server.close();
    await plane.close();
    await issuer.close();
    await database.close();
    await rm(folder, { recursive: true, force: true });
  }
}

const suite: BenchSuite = { name: 'api', run: measure };

export default suite;
