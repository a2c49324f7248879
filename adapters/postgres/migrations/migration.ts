/**
 * One versioned change of the schema: SQL run once, in version order, inside the migration
 * transaction. Migrations are TypeScript modules rather than files read at run time, so the
 * Lambda bundles carry them.
 */
export interface Migration {
  /** Positive, unique, increasing with each new migration. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
