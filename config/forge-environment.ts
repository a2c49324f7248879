import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { byteSize, parseEnvironment } from './environment.js';

/**
 * Every `FORGE_` variable this build reads, with its default. docs/configuration.md documents
 * each one; keep the two in step.
 */
/** Most released worktrees a worker keeps per repository. */
export const MAX_WORKTREE_POOL = 64;

export const ForgeEnvironmentSchema = z.object({
  /** `embedded` runs everything in one process; `aws` talks to AWS (or its emulators). */
  FORGE_MODE: z.enum(['embedded', 'aws']).default('embedded'),
  /**
   * Folder of the embedded mode's state: step logs and results (`blobs/`), and whatever else
   * the embedded platform keeps between runs. Relative to the working directory.
   */
  FORGE_DATA_DIR: z.string().min(1).default('.forge-data'),
  /** The port of `forge-pipeline serve` on 127.0.0.1 (`--port` wins); 0 picks a free one. */
  FORGE_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** Folder where evaluated configurations are kept across processes; memory only if unset. */
  FORGE_CONFIG_CACHE_DIR: z.string().optional(),
  /** Folder of the workers' git repository cache (bare clones and job worktrees). */
  FORGE_REPOSITORY_CACHE_DIR: z.string().default(join(tmpdir(), 'forge-repository-cache')),
  /** Size above which least recently used repositories are evicted from the cache. */
  FORGE_REPOSITORY_CACHE_MAX_SIZE: byteSize.default(100 * 1024 ** 3),
  /**
   * Released worktrees kept for reuse per repository: a recycled worktree rewrites only the
   * files that differ, where a fresh one writes every file (16x against 0.4x a clone here).
   */
  FORGE_REPOSITORY_CACHE_WORKTREE_POOL: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WORKTREE_POOL)
    .default(2),
});

/** The parsed configuration of a process. */
export type ForgeEnvironment = z.infer<typeof ForgeEnvironmentSchema>;

/** Reads the process's `FORGE_` configuration once; throws a `ConfigurationError` naming a bad variable. */
export function loadForgeEnvironment(env: NodeJS.ProcessEnv = process.env): ForgeEnvironment {
  return parseEnvironment(ForgeEnvironmentSchema, env);
}
