import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { RunProgressError } from '../../core/run-progress/run-progress-errors.js';
import { MIGRATIONS } from './migrations/all-migrations.js';
import type { Migration } from './migrations/migration.js';
import { MigrationChecksumError, storeOperation } from './postgres-errors.js';

/**
 * The advisory lock every migrating process takes (an arbitrary constant of this product), so
 * that processes starting together apply each migration once, one after the other.
 */
const MIGRATION_LOCK_KEY = '7304613926130437';

/** What a migration run did. */
export interface MigrationReport {
  /** Versions applied by this call, in order. */
  readonly applied: readonly number[];
  /** Versions that were already applied. */
  readonly alreadyApplied: readonly number[];
}

/**
 * Brings the database's schema up to date: in ONE transaction holding an advisory lock, creates
 * `schema_migrations` if needed, then applies, in version order, each migration it does not
 * record yet, and records it with a checksum of its SQL. Running it again, or from several
 * processes at once, applies nothing twice (a second process waits for the lock, then finds
 * everything recorded); a failing migration rolls the whole call back. A recorded migration
 * whose SQL has changed since is refused with a {@link MigrationChecksumError}.
 */
export async function migratePostgres(
  sql: postgres.Sql,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const ordered = checkedOrder(migrations);
  return storeOperation('migrate the schema', () =>
    sql.begin(async (transaction) => {
      await transaction`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`;
      await transaction`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`;
      const recorded = await transaction<{ version: number; checksum: string }[]>`
        SELECT version, checksum FROM schema_migrations`;
      const checksums = new Map(recorded.map((row) => [row.version, row.checksum]));
      const applied: number[] = [];
      const alreadyApplied: number[] = [];
      for (const migration of ordered) {
        const checksum = checksumOf(migration);
        const existing = checksums.get(migration.version);
        if (existing !== undefined) {
          if (existing !== checksum) {
            throw new MigrationChecksumError(migration.version, migration.name);
          }
          alreadyApplied.push(migration.version);
          continue;
        }
        await transaction.unsafe(migration.sql);
        await transaction`
          INSERT INTO schema_migrations (version, name, checksum)
          VALUES (${migration.version}, ${migration.name}, ${checksum})`;
        applied.push(migration.version);
      }
      return { applied, alreadyApplied };
    }),
  );
}

/** The SHA-256 of a migration's SQL, which must never change once applied. */
export function checksumOf(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex');
}

function checkedOrder(migrations: readonly Migration[]): Migration[] {
  const ordered = [...migrations].sort((left, right) => left.version - right.version);
  ordered.forEach((migration, index) => {
    const previous = ordered[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new RunProgressError(`migration version ${migration.version} is not positive`);
    }
    if (previous !== undefined && previous.version === migration.version) {
      throw new RunProgressError(`two migrations have version ${migration.version}`);
    }
  });
  return ordered;
}
