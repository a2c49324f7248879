import postgres from 'postgres';
import { z } from 'zod';
import type { PostgresConfig } from '../../config/postgres-environment.js';
import { assertNever } from '../../core/assert-never.js';
import { RunStoreOperationError } from '../../core/run-progress/run-progress-errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { EmbeddedPostgresServer } from './embedded-postgres-server.js';
import { migratePostgres, type MigrationReport } from './migrate-postgres.js';
import { storeOperation } from './postgres-errors.js';

/** The database of the embedded mode, created in the embedded server on first start. */
export const EMBEDDED_DATABASE = 'forge';

/**
 * The session settings of the embedded server's connections. Its data is this machine's own
 * working copy, so a commit does not wait for its WAL to reach the disk: a crash of the machine
 * may lose the last fraction of a second of commits, but never corrupts the data (unlike
 * `fsync = off`). A database named by `DATABASE_URL` or a secret keeps its own settings.
 */
export const EMBEDDED_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  synchronous_commit: 'off',
};

/** An open database: the connection pool, and how to let go of it (and of its server). */
export interface PostgresDatabase {
  readonly sql: postgres.Sql;
  /** What the migrations did when the database was opened; `undefined` when not migrating. */
  readonly migrations: MigrationReport | undefined;
  /** The embedded server this process started, if any. */
  readonly server: EmbeddedPostgresServer | undefined;
  /** Ends the pool, then stops the embedded server if this process started one; idempotent. */
  close(): Promise<void>;
}

/** What {@link openPostgres} needs besides the configuration. */
export interface OpenPostgresDeps {
  /** Reads `FORGE_DATABASE_SECRET_ARN`; required when the configuration names a secret. */
  readonly secrets?: SecretStore;
}

/** The fields of an RDS-managed database secret this product reads. */
const RdsSecretSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  host: z.string().min(1),
  port: z.coerce.number().int().positive().default(5432),
  dbname: z.string().min(1).default('postgres'),
});

/**
 * Opens the control plane's database as configured: the URL of `DATABASE_URL` or of the
 * secret, or an embedded server (started here, on 127.0.0.1, with its data in the configured
 * folder) with its `forge` database. Migrates the schema unless switched off. Everything
 * started is closed again if a later step fails.
 */
export async function openPostgres(
  config: PostgresConfig,
  deps: OpenPostgresDeps = {},
): Promise<PostgresDatabase> {
  let server: EmbeddedPostgresServer | undefined;
  let url: string;
  switch (config.kind) {
    case 'url':
      url = config.url;
      break;
    case 'secret':
      url = await urlFromSecret(config.secretArn, deps.secrets);
      break;
    case 'embedded':
      server = await EmbeddedPostgresServer.start({ dataDir: config.dataDir, port: config.port });
      try {
        await ensureDatabase(server, EMBEDDED_DATABASE);
      } catch (error) {
        await server.close();
        throw error;
      }
      url = server.urlFor(EMBEDDED_DATABASE);
      break;
    default:
      return assertNever(config, 'database configuration');
  }
  const sql = connectPostgres(
    url,
    config.poolSize,
    config.kind === 'embedded' ? EMBEDDED_SESSION_SETTINGS : {},
    server?.socketPath,
  );
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await sql.end({ timeout: 5 });
      } finally {
        await server?.close();
      }
    })());
  try {
    const migrations = config.migrate ? await migratePostgres(sql) : undefined;
    await openConnections(sql, config.poolSize);
    return { sql, migrations, server, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A connection pool with this product's settings: notices (such as "already exists,
 * skipping") are not printed, `undefined` parameters are sent as NULL; `settings` are
 * session parameters every connection starts with. With `socketPath`, the connections go
 * through that Unix socket instead of the URL's host and port.
 */
export function connectPostgres(
  url: string,
  poolSize = 10,
  settings: Readonly<Record<string, string>> = {},
  socketPath?: string,
): postgres.Sql {
  return postgres(url, {
    ...(socketPath === undefined ? {} : { path: socketPath }),
    max: poolSize,
    connection: { ...settings },
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => undefined,
    transform: { undefined: null },
  });
}

/**
 * Opens every connection of the pool now rather than on the first burst of requests: each one
 * costs a TCP connection and a SCRAM authentication (thousands of hash rounds on both sides),
 * which would otherwise land on the first requests a fresh process serves. Connections idle
 * for the pool's idle timeout are closed again as usual.
 */
async function openConnections(sql: postgres.Sql, poolSize: number): Promise<void> {
  await storeOperation('open the connection pool', () =>
    Promise.all(Array.from({ length: poolSize }, () => sql`SELECT 1`)),
  );
}

/** Creates `database` in the embedded server unless it exists. */
async function ensureDatabase(server: EmbeddedPostgresServer, database: string): Promise<void> {
  const admin = connectPostgres(server.urlFor('postgres'), 1);
  try {
    await storeOperation(`create database ${database}`, async () => {
      const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${database}`;
      if (found.length === 0) await admin.unsafe(`CREATE DATABASE "${database}"`);
    });
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** The connection URL a database secret holds: a URL, or RDS's JSON fields. */
async function urlFromSecret(secretArn: string, secrets: SecretStore | undefined): Promise<string> {
  if (secrets === undefined) {
    throw new RunStoreOperationError('read the database secret', 'no secret store was given');
  }
  const text = (await secrets.get(secretArn)).trim();
  if (/^postgres(ql)?:\/\//.test(text)) return text;
  let fields: z.infer<typeof RdsSecretSchema>;
  try {
    fields = RdsSecretSchema.parse(JSON.parse(text));
  } catch {
    // The secret's content is never quoted: it holds a password.
    throw new RunStoreOperationError(
      `read the database secret ${secretArn}`,
      'it is neither a postgres:// URL nor JSON with username, password and host',
    );
  }
  const user = encodeURIComponent(fields.username);
  const password = encodeURIComponent(fields.password);
  return `postgres://${user}:${password}@${fields.host}:${fields.port}/${encodeURIComponent(fields.dbname)}`;
}
