/**
 * Vitest global setup: starts ONE embedded Postgres for the whole run (127.0.0.1, a free port,
 * data in a temporary folder), prepares a migrated template database, and hands both to the
 * tests (`inject('postgres')`). Each test file creates databases of its own from the template
 * (test/support/postgres-database.ts), so files never see each other's rows. The server is
 * stopped, and its folder removed, when the run ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedPostgresServer } from '../../adapters/postgres/embedded-postgres-server.js';
import { migratePostgres } from '../../adapters/postgres/migrate-postgres.js';
import { connectPostgres } from '../../adapters/postgres/open-postgres.js';

/** What the tests get: the server's admin URL and the migrated template's name. */
export interface ProvidedPostgres {
  readonly adminUrl: string;
  readonly templateDatabase: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: ProvidedPostgres;
  }
}

const TEMPLATE_DATABASE = 'forge_template';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'forge-test-postgres-'));
  let server: EmbeddedPostgresServer | undefined;
  const stop = async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // The cluster is thrown away after the run: durability only costs time here.
    server = await EmbeddedPostgresServer.start({ dataDir, durable: false });
    const admin = connectPostgres(server.urlFor('postgres'), 1);
    try {
      await admin.unsafe(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    const template = connectPostgres(server.urlFor(TEMPLATE_DATABASE), 1);
    try {
      await migratePostgres(template);
    } finally {
      await template.end({ timeout: 5 });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  project.provide('postgres', {
    adminUrl: server.urlFor('postgres'),
    templateDatabase: TEMPLATE_DATABASE,
  });
  return stop;
}
