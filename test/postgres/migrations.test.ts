import { afterEach, describe, expect, it } from 'vitest';
import { migratePostgres, checksumOf } from '../../adapters/postgres/migrate-postgres.js';
import { MIGRATIONS } from '../../adapters/postgres/migrations/all-migrations.js';
import { connectPostgres } from '../../adapters/postgres/open-postgres.js';
import { MigrationChecksumError } from '../../adapters/postgres/postgres-errors.js';
import { EXECUTION_STATUSES, RUN_STATUSES } from '../../core/statuses.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres-database.js';

/** The versions of every migration of this build, in order. */
const VERSIONS = MIGRATIONS.map((migration) => migration.version);

const databases: TestDatabase[] = [];

/** A fresh, empty database (no migration applied), dropped after the test. */
async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrated: false });
  databases.push(database);
  return database;
}

afterEach(async () => {
  await Promise.all(databases.splice(0).map((database) => database.drop()));
});

async function tableNames(database: TestDatabase): Promise<string[]> {
  const rows = await database.sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' ORDER BY table_name`;
  return rows.map((row) => row.table_name);
}

describe('migratePostgres', () => {
  it('creates every table on a fresh database and records the migration with its checksum', async () => {
    // Arrange
    const database = await emptyDatabase();

    // Act
    const report = await migratePostgres(database.sql);

    // Assert
    expect(report).toEqual({ applied: VERSIONS, alreadyApplied: [] });
    expect(await tableNames(database)).toEqual([
      'audit_log',
      'phase_executions',
      'pipeline_runs',
      'release_executions',
      'repositories',
      'schema_migrations',
      'status_event_outbox',
      'step_executions',
      'task_executions',
    ]);
    const recorded = await database.sql`
      SELECT version, name, checksum FROM schema_migrations ORDER BY version`;
    expect(recorded).toEqual(
      MIGRATIONS.map(({ version, name }, index) => ({
        version,
        name,
        checksum: checksumOf(MIGRATIONS[index]!),
      })),
    );
  });

  it('applies nothing the second time', async () => {
    // Arrange
    const database = await emptyDatabase();
    await migratePostgres(database.sql);

    // Act
    const second = await migratePostgres(database.sql);

    // Assert
    expect(second).toEqual({ applied: [], alreadyApplied: VERSIONS });
    const [count] = await database.sql<{ count: string }[]>`
      SELECT count(*) FROM schema_migrations`;
    expect(count?.count).toBe(String(MIGRATIONS.length));
  });

  it('applies each migration once when four processes migrate the same database at once', async () => {
    // Arrange: one pool per "process", each with its own connection.
    const database = await emptyDatabase();
    const pools = Array.from({ length: 4 }, () => connectPostgres(database.url, 1));

    // Act
    const reports = await Promise.all(pools.map((pool) => migratePostgres(pool)));
    await Promise.all(pools.map((pool) => pool.end({ timeout: 5 })));

    // Assert
    expect(reports.filter((report) => report.applied.length === VERSIONS.length)).toHaveLength(1);
    expect(
      reports.filter((report) => report.alreadyApplied.length === VERSIONS.length),
    ).toHaveLength(3);
    expect(await tableNames(database)).toContain('pipeline_runs');
  });

  it('refuses a migration whose SQL changed after it was applied', async () => {
    // Arrange
    const database = await emptyDatabase();
    await migratePostgres(database.sql);
    const edited = [{ ...MIGRATIONS[0]!, sql: `${MIGRATIONS[0]!.sql}\n-- edited` }];

    // Act
    const migrating = migratePostgres(database.sql, edited);

    // Assert
    await expect(migrating).rejects.toBeInstanceOf(MigrationChecksumError);
  });

  it('rolls every migration of the call back when one fails', async () => {
    // Arrange
    const database = await emptyDatabase();
    const broken = [
      ...MIGRATIONS,
      { version: VERSIONS.length + 1, name: 'broken', sql: 'SELECT no_such_column' },
    ];

    // Act
    const migrating = migratePostgres(database.sql, broken);

    // Assert
    await expect(migrating).rejects.toThrow(/no_such_column/);
    expect(await tableNames(database)).toEqual([]);
  });
});

describe('the schema', () => {
  it('limits status columns to the words of core/statuses.ts', async () => {
    // Arrange
    const database = await emptyDatabase();
    await migratePostgres(database.sql);

    // Act
    const checks = await database.sql<{ table_name: string; definition: string }[]>`
      SELECT conrelid::regclass::text AS table_name, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint
      WHERE contype = 'c' AND pg_get_constraintdef(oid) LIKE '%(status = ANY%'`;

    // Assert
    const wordsOf = (table: string) =>
      [
        ...(checks.find((check) => check.table_name === table)?.definition ?? '').matchAll(
          /'(\w+)'/g,
        ),
      ].map((match) => match[1]);
    expect(wordsOf('pipeline_runs')).toEqual([...RUN_STATUSES]);
    for (const table of [
      'phase_executions',
      'task_executions',
      'step_executions',
      'release_executions',
    ]) {
      expect(wordsOf(table)).toEqual([...EXECUTION_STATUSES]);
    }
  });

  it('keeps the audit log append-only: no update, delete or truncate', async () => {
    // Arrange
    const database = await emptyDatabase();
    await migratePostgres(database.sql);
    const sql = database.sql;
    await sql`
      INSERT INTO audit_log (entity_type, entity_id, to_status, actor)
      VALUES ('run', gen_random_uuid(), 'pending', 'test')`;

    // Act
    const update = sql`UPDATE audit_log SET actor = 'someone else'`;
    const remove = sql`DELETE FROM audit_log`;
    const truncate = sql`TRUNCATE audit_log`;

    // Assert
    await expect(update).rejects.toThrow(/append-only: UPDATE/);
    await expect(remove).rejects.toThrow(/append-only: DELETE/);
    await expect(truncate).rejects.toThrow(/append-only: TRUNCATE/);
    const [row] = await sql<{ actor: string }[]>`SELECT actor FROM audit_log`;
    expect(row?.actor).toBe('test');
  });

  it('has the indexes the domain model names', async () => {
    // Arrange
    const database = await emptyDatabase();
    await migratePostgres(database.sql);

    // Act
    const indexes = await database.sql<{ indexdef: string }[]>`
      SELECT indexdef FROM pg_indexes WHERE tablename = 'pipeline_runs'`;

    // Assert
    const definitions = indexes.map((index) => index.indexdef.replace(/^.* USING btree /, ''));
    expect(definitions).toEqual(
      expect.arrayContaining([
        '(repository_id, commit_sha)',
        '(repository_id, branch, started_at DESC)',
        '(status, started_at)',
      ]),
    );
    expect(indexes.map((index) => index.indexdef)).toContainEqual(
      expect.stringMatching(/UNIQUE INDEX .* \(repository_id, commit_sha\)/),
    );
  });
});
