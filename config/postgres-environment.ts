import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseEnvironment } from './environment.js';

const booleanText = z.enum(['true', 'false']).transform((text) => text === 'true');

/** The default folder of the embedded Postgres server, under the working directory. */
export const DEFAULT_POSTGRES_DATA_DIR = '.forge-data/postgres';

/** Connections a process opens to a database server of its own machine's size or larger. */
export const DEFAULT_POOL_SIZE = 10;

/**
 * Connections a process opens to the embedded server by default: one per core (at least two,
 * at most {@link DEFAULT_POOL_SIZE}). The server shares the process's machine, so connections
 * beyond its cores only add backends taking turns on them; measured on two cores, two
 * connections answer about a fifth more reads per second than ten, at a lower p99.
 */
export function embeddedPoolSize(cores: number = availableParallelism()): number {
  return Math.min(DEFAULT_POOL_SIZE, Math.max(2, cores));
}

/**
 * The variables that say where the control plane's database is; docs/configuration.md
 * documents each one. `DATABASE_URL` keeps its conventional name (without `FORGE_`), as the
 * hosting platforms and tools that set it expect.
 */
export const PostgresEnvironmentSchema = z.object({
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
    .optional(),
  FORGE_DATABASE_SECRET_ARN: z
    .string()
    .startsWith('arn:', 'must be a Secrets Manager ARN')
    .optional(),
  FORGE_POSTGRES_DATA_DIR: z.string().min(1).default(DEFAULT_POSTGRES_DATA_DIR),
  FORGE_POSTGRES_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  FORGE_POSTGRES_POOL_SIZE: z.coerce.number().int().min(1).max(100).optional(),
  FORGE_POSTGRES_MIGRATE: booleanText.default(true),
});

/** Settings every kind of database shares. */
interface PostgresCommonConfig {
  /** Most connections the process opens. */
  readonly poolSize: number;
  /** Whether the schema is migrated when the database is opened. */
  readonly migrate: boolean;
}

/**
 * Where the database is: a URL (`DATABASE_URL`), a Secrets Manager secret holding the URL or
 * RDS's connection fields (`FORGE_DATABASE_SECRET_ARN`), or, when neither is set, an embedded
 * server with its data in `dataDir`.
 */
export type PostgresConfig = PostgresCommonConfig &
  (
    | { readonly kind: 'url'; readonly url: string }
    | { readonly kind: 'secret'; readonly secretArn: string }
    | { readonly kind: 'embedded'; readonly dataDir: string; readonly port: number }
  );

/**
 * Reads the database variables once; a bad value is a `ConfigurationError` naming it. The
 * embedded data folder is resolved against `cwd`.
 */
export function loadPostgresConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): PostgresConfig {
  const parsed = parseEnvironment(PostgresEnvironmentSchema, env);
  const embedded =
    parsed.DATABASE_URL === undefined && parsed.FORGE_DATABASE_SECRET_ARN === undefined;
  const common = {
    poolSize:
      parsed.FORGE_POSTGRES_POOL_SIZE ?? (embedded ? embeddedPoolSize() : DEFAULT_POOL_SIZE),
    migrate: parsed.FORGE_POSTGRES_MIGRATE,
  };
  if (parsed.DATABASE_URL !== undefined) {
    return { ...common, kind: 'url', url: parsed.DATABASE_URL };
  }
  if (parsed.FORGE_DATABASE_SECRET_ARN !== undefined) {
    return { ...common, kind: 'secret', secretArn: parsed.FORGE_DATABASE_SECRET_ARN };
  }
  const dataDir = parsed.FORGE_POSTGRES_DATA_DIR;
  return {
    ...common,
    kind: 'embedded',
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir),
    port: parsed.FORGE_POSTGRES_PORT,
  };
}
