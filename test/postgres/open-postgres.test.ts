import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedSecretStore } from '../../adapters/embedded/embedded-secret-store.js';
import { MIGRATIONS } from '../../adapters/postgres/migrations/all-migrations.js';
import { openPostgres, type PostgresDatabase } from '../../adapters/postgres/open-postgres.js';
import { RunStoreOperationError } from '../../core/run-progress/run-progress-errors.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres-database.js';

const VERSIONS = MIGRATIONS.map((migration) => migration.version);

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrated: false });
  cleanups.push(() => database.drop());
  return database;
}

function track(database: PostgresDatabase): PostgresDatabase {
  cleanups.push(() => database.close());
  return database;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('openPostgres', () => {
  it('connects to DATABASE_URL with its own settings, opens the whole pool and migrates the schema', async () => {
    // Arrange
    const target = await emptyDatabase();

    // Act
    const database = track(
      await openPostgres({ kind: 'url', url: target.url, poolSize: 2, migrate: true }),
    );

    // Assert
    expect(database.migrations).toEqual({ applied: VERSIONS, alreadyApplied: [] });
    expect(database.server).toBeUndefined();
    // Every connection of the pool is open before the first request needs one.
    const [connections] = await database.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = ${target.name}`;
    expect(connections?.count).toBe(2);
    // The server's own setting, whatever it is: the pool sets none of its own.
    const [commits] = await database.sql<{ source: string }[]>`
      SELECT source FROM pg_settings WHERE name = 'synchronous_commit'`;
    expect(commits?.source).not.toBe('client');
    expect(await database.sql`SELECT count(*)::int AS runs FROM pipeline_runs`).toEqual([
      { runs: 0 },
    ]);
  });

  it('reads the connection from an RDS-style secret, and never quotes a bad secret', async () => {
    // Arrange
    const target = await emptyDatabase();
    const url = new URL(target.url);
    const secrets = new EmbeddedSecretStore({
      'arn:aws:secretsmanager:local:1:secret:db': JSON.stringify({
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        host: url.hostname,
        port: Number(url.port),
        dbname: target.name,
      }),
      'arn:aws:secretsmanager:local:1:secret:bad': 'password=hunter2',
    });

    // Act
    const database = track(
      await openPostgres(
        {
          kind: 'secret',
          secretArn: 'arn:aws:secretsmanager:local:1:secret:db',
          poolSize: 1,
          migrate: false,
        },
        { secrets },
      ),
    );
    const bad: unknown = await openPostgres(
      {
        kind: 'secret',
        secretArn: 'arn:aws:secretsmanager:local:1:secret:bad',
        poolSize: 1,
        migrate: false,
      },
      { secrets },
    ).catch((error: unknown) => error);

    // Assert
    expect(database.migrations).toBeUndefined();
    expect(await database.sql`SELECT current_database() AS name`).toEqual([{ name: target.name }]);
    expect(bad).toBeInstanceOf(RunStoreOperationError);
    expect((bad as Error).message).not.toMatch(/hunter2/);
  });

  it('starts an embedded server on 127.0.0.1 and its own socket only, commits without waiting for the disk, keeps its data across starts, and stops it', async () => {
    // Arrange
    const dataDir = await mkdtemp(join(tmpdir(), 'forge-embedded-postgres-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const config = { kind: 'embedded' as const, dataDir, port: 0, poolSize: 2, migrate: true };

    // Act
    const first = track(await openPostgres(config));
    const firstPid = first.server?.pid ?? 0;
    const settings = await first.sql<
      { listen: string; sockets: string; commits: string; client: string | null }[]
    >`
      SELECT current_setting('listen_addresses') AS listen,
             current_setting('unix_socket_directories') AS sockets,
             current_setting('synchronous_commit') AS commits,
             host(inet_client_addr()) AS client`;
    await first.sql`
      INSERT INTO repositories (full_name, clone_url) VALUES ('acme/kept', 'https://example.com')`;
    await first.close();
    await first.close();
    const stoppedAfterClose = !isAlive(firstPid);
    const second = track(await openPostgres(config));

    // Assert
    // The embedded server's own data: commits do not wait for the disk (never so for a URL).
    // The pool goes through the Unix socket in the cluster folder (no client address).
    expect(settings).toEqual([
      { listen: '127.0.0.1', sockets: first.server?.clusterDir, commits: 'off', client: null },
    ]);
    expect(first.server?.socketPath).toBe(
      `${first.server?.clusterDir}/.s.PGSQL.${first.server?.port}`,
    );
    expect(first.migrations?.applied).toEqual(VERSIONS);
    expect(stoppedAfterClose).toBe(true);
    expect(second.migrations).toEqual({ applied: [], alreadyApplied: VERSIONS });
    expect(await second.sql`SELECT full_name FROM repositories`).toEqual([
      { full_name: 'acme/kept' },
    ]);
    expect(second.server?.pid).not.toBe(firstPid);
  });
});
