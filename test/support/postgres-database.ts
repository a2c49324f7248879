import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { afterAll, beforeAll, inject } from 'vitest';
import { connectPostgres } from '../../adapters/postgres/open-postgres.js';

/** A database of one test file on the run's embedded Postgres server. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on it (ended by `drop`). */
  readonly sql: postgres.Sql;
  /** Ends the pool and drops the database, closing any connection left on it. */
  drop(): Promise<void>;
}

/**
 * Creates a database of its own on the server the global setup started: a copy of the migrated
 * template, or (with `migrated: false`) an empty one, for migration tests.
 */
export async function createTestDatabase(
  options: { readonly migrated?: boolean } = {},
): Promise<TestDatabase> {
  const provided = inject('postgres');
  const name = `forge_test_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const template = options.migrated === false ? 'template0' : provided.templateDatabase;
  await withAdmin(provided.adminUrl, (admin) =>
    admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`),
  );
  const url = databaseUrl(provided.adminUrl, name);
  const sql = connectPostgres(url, 5);
  return {
    name,
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      await withAdmin(provided.adminUrl, (admin) =>
        admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

/**
 * A migrated database for the test file, created before its tests and dropped after them;
 * read `database.current` inside tests and hooks.
 */
export function useTestDatabase(options: { readonly migrated?: boolean } = {}): {
  readonly current: TestDatabase;
} {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get current(): TestDatabase {
      if (database === undefined) throw new Error('the test database is created in beforeAll');
      return database;
    },
  };
}

/** The URL of `database` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin(
  adminUrl: string,
  action: (admin: postgres.Sql) => Promise<unknown>,
): Promise<void> {
  const admin = connectPostgres(adminUrl, 1);
  try {
    await action(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
