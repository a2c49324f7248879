import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { LocalOidcIssuer } from '../adapters/auth/local-oidc-issuer.js';
import { createEmbeddedJobPlane } from '../adapters/job-plane/embedded-job-plane.js';
import { openPostgres } from '../adapters/postgres/open-postgres.js';
import { PostgresRunRepository } from '../adapters/postgres/postgres-run-repository.js';
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
const POST_P99_TARGET_MS = 100;
const GET_P99_TARGET_MS = 50;

/**
 * The control plane's own latency: `POST /v1/runs` for 1,000 distinct commits at 50
 * connections, then `GET /v1/runs/{id}` for 5 s, with autocannon against the local server,
 * real Postgres (embedded), real token verification, and an engine that only records
 * submissions so that the figure is the API's, not a workflow's.
 */
async function measure(context: BenchContext): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-bench-api-'));
  await chmod(folder, 0o755);
  const database = await openPostgres({
    kind: 'embedded',
    dataDir: join(folder, 'postgres'),
    port: 0,
    poolSize: 20,
    migrate: true,
  });
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
    await runs.registerRepository(REPOSITORY, 'https://github.com/bench/api.git');
    const token = await issuer.sign({
      kind: PrincipalKind.githubActions,
      repository: REPOSITORY,
      audience: GITHUB_AUDIENCE,
      ttlSeconds: 3600,
    });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const bodies = Array.from({ length: POST_RUNS }, () =>
      JSON.stringify({ repository: REPOSITORY, commit_sha: randomCommitSha(), branch: 'main' }),
    );
    let next = 0;
    const posted = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      amount: POST_RUNS,
      requests: [
        {
          method: 'POST',
          path: '/v1/runs',
          headers,
          setupRequest: (request) => ({ ...request, body: bodies[next++ % POST_RUNS] }),
        },
      ],
    });
    context.note(
      `POST /v1/runs: ${posted.requests.total} requests, ${posted['2xx']} answered 2xx, ` +
        `${posted.non2xx} other, ${posted.errors} errors`,
    );
    context.report({
      label: 'POST /v1/runs p99 (1,000 commits, 50 connections)',
      value: posted.latency.p99,
      unit: 'ms',
      target: `<= ${POST_P99_TARGET_MS} ms`,
      met: posted.latency.p99 <= POST_P99_TARGET_MS && posted.non2xx === 0,
    });
    context.report({
      label: 'POST /v1/runs throughput',
      value: posted.requests.average,
      unit: 'ops/s',
    });

    const listed = await runs.listRuns({ repository: REPOSITORY, limit: 1, offset: 0 });
    const runId = listed.runs[0]?.id;
    if (runId === undefined) throw new Error('the POST benchmark created no run');
    const read = await autocannon({
      url: `${server.url}/v1/runs/${runId}`,
      connections: CONNECTIONS,
      duration: GET_SECONDS,
      headers,
    });
    context.note(`GET /v1/runs/{id}: ${read.requests.total} requests, ${read.non2xx} not 2xx`);
    context.report({
      label: 'GET /v1/runs/{id} p99 (50 connections)',
      value: read.latency.p99,
      unit: 'ms',
      target: `<= ${GET_P99_TARGET_MS} ms`,
      met: read.latency.p99 <= GET_P99_TARGET_MS && read.non2xx === 0,
    });
    context.report({
      label: 'GET /v1/runs/{id} throughput',
      value: read.requests.average,
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
