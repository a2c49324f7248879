import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../auth/local-issuer-fixture.js';
import { runCommand } from '../support/run-command.js';

/*
 * What `npm start -- --once` does on a fresh machine, as a separate process: the embedded
 * platform (its own Postgres, local issuer, job plane, worker pools, engine, reconciler, API
 * on 127.0.0.1) registers the sample monorepo, runs it through POST /v1/runs, follows it and
 * prints the finished GET /v1/runs/{id}.
 */

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(
    folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })),
  );
});

describe('forge-pipeline serve --run --once', () => {
  it('runs the sample monorepo through the API to success and prints the finished run', async () => {
    // Arrange
    const dataDir = await mkdtemp(join(tmpdir(), 'forge-serve-'));
    folders.push(dataDir);
    // As root, Postgres runs as the `postgres` user, which must reach its folder through this one.
    await chmod(dataDir, 0o755);
    const env = {
      ...process.env,
      FORGE_DATA_DIR: dataDir,
      FORGE_POSTGRES_DATA_DIR: join(dataDir, 'postgres'),
      FORGE_LOCAL_ISSUER_DIR: join(dataDir, 'issuer'),
      FORGE_LOCAL_ISSUER_PORT: String(await freePort()),
      FORGE_API_PORT: '0',
    };

    // Act
    const result = await runCommand(
      'forge-pipeline',
      ['serve', '--run', 'examples/monorepo', '--once', '--branch', 'main'],
      { env, timeoutMs: 150_000 },
    );

    // Assert
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/POST \/v1\/runs → 201 created run [0-9a-f-]{36}/);
    expect(result.stdout).toMatch(/\d\d:\d\d:\d\d run success/);
    const json = result.stdout.slice(result.stdout.indexOf('{'));
    const run = JSON.parse(json) as {
      status: string;
      repository: string;
      phases: { name: string; status: string; tasks: { steps: { log_url: string | null }[] }[] }[];
      releases: { project: string; status: string; error: string | null }[];
    };
    expect(run.status).toBe('success');
    expect(run.repository).toBe('local/monorepo');
    expect(run.phases.map((phase) => [phase.name, phase.status])).toEqual([
      ['lint', 'success'],
      ['test', 'success'],
      ['build', 'success'],
    ]);
    const logUrl = run.phases[0]?.tasks[0]?.steps[0]?.log_url;
    expect(logUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(run.releases).toEqual([expect.objectContaining({ project: 'api', status: 'skipped' })]);
  }, 180_000);
});
