import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LocalOidcIssuer } from '../../adapters/auth/local-oidc-issuer.js';
import { createEmbeddedJobPlane } from '../../adapters/job-plane/embedded-job-plane.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import type { ApiDependencies } from '../../functions/api/api-dependencies.js';
import { ApiHttpServer } from '../../platform/api-http-server.js';
import {
  GITHUB_AUDIENCE,
  SERVICE_AUDIENCE,
  authenticatorTrusting,
} from '../auth/local-issuer-fixture.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres-database.js';
import { RecordingStatusEventSink } from '../support/postgres-run-fixtures.js';
import { RecordingWorkflowEngine } from '../support/recording-workflow-engine.js';

/** The API on real parts: Postgres, the embedded job plane, a local issuer, a local server. */
export interface ApiStack {
  readonly url: string;
  /** What the stack's server was started with, for tests that start a server of their own. */
  readonly deps: ApiDependencies;
  readonly runs: PostgresRunRepository;
  readonly plane: JobPlane;
  readonly engine: RecordingWorkflowEngine;
  readonly statusEvents: RecordingStatusEventSink;
  readonly logged: { level: string; message: string }[];
  /** A GitHub Actions token for `repository`. */
  githubToken(repository: string): Promise<string>;
  /** A service-account token, for the internal routes. */
  serviceToken(): Promise<string>;
  /** Sends a request with an optional bearer token and JSON body; the parsed answer. */
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; rawBody?: string },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * For a test file: the API served on 127.0.0.1 over a fresh database of its own, the embedded
 * job plane (job store, presigned log links), a local issuer, a recording engine and a
 * recording status sink; all stopped after the file.
 */
export function useApiStack(): { readonly current: ApiStack } {
  const holder: { current?: ApiStack } = {};
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const folder = await mkdtemp(join(tmpdir(), 'forge-api-test-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const issuer = await LocalOidcIssuer.start({ directory: join(folder, 'issuer'), port: 0 });
    cleanups.push(() => issuer.close());
    const plane = await createEmbeddedJobPlane({ dataDirectory: join(folder, 'plane') });
    cleanups.push(() => plane.close());
    const runs = new PostgresRunRepository({ sql: database.sql });
    const engine = new RecordingWorkflowEngine();
    const statusEvents = new RecordingStatusEventSink();
    const logged: { level: string; message: string }[] = [];
    const log = (level: string) => (message: string) => logged.push({ level, message });
    const deps: ApiDependencies = {
      runs,
      engine,
      jobs: plane.jobs,
      logs: plane.blobs.logs,
      authenticator: authenticatorTrusting(issuer),
      statusEvents,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      ready: async () => {
        await database.sql`select 1`;
      },
    };
    const server = await ApiHttpServer.start({ deps, port: 0 });
    cleanups.push(() => server.close());
    holder.current = {
      url: server.url,
      deps,
      runs,
      plane,
      engine,
      statusEvents,
      logged,
      githubToken: (repository) =>
        issuer.sign({
          kind: PrincipalKind.githubActions,
          repository,
          audience: GITHUB_AUDIENCE,
          ttlSeconds: 600,
        }),
      serviceToken: () =>
        issuer.sign({ kind: PrincipalKind.service, audience: SERVICE_AUDIENCE, ttlSeconds: 600 }),
      async call(method, path, options = {}) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers,
          body:
            options.rawBody ??
            (options.body === undefined ? undefined : JSON.stringify(options.body)),
        });
        const text = await response.text();
        return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
      },
    };
  }, 60_000);
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    get current(): ApiStack {
      if (holder.current === undefined) throw new Error('the API stack has not started');
      return holder.current;
    },
  };
}
