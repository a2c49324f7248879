import { z } from 'zod';
import { durationSeconds } from '../duration.js';

/** Forge configuration majors this build can read. */
export const SUPPORTED_FORGE_MAJORS: readonly number[] = [1];

/** Names of phases, steps and projects: lower-case words joined by single dashes. */
export const kebabName = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case (lower-case words joined by "-")');

/** How release tags name their projects (DESIGN.md section 3). */
export const TaggingStrategy = { monorepo: 'monorepo', tagAll: 'tag-all' } as const;
export type TaggingStrategy = (typeof TaggingStrategy)[keyof typeof TaggingStrategy];

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** A phase the repository defines: its group orders execution, `required` makes it mandatory. */
export const PhaseDefinitionSchema = z.strictObject({
  group: z.int().min(1),
  description: z.string(),
  timeout: durationSeconds.optional(),
  required: z.boolean().default(false),
});
export type PhaseDefinition = z.infer<typeof PhaseDefinitionSchema>;

/** A publisher target (registry, bucket, ...); other components read its extra fields. */
export const PublisherSchema = z.looseObject({
  type: z.string().min(1),
  credentials: z.looseObject({ provider: z.string().min(1) }),
});

/**
 * The evaluated `.forge/repo.cue` of a repository (package `repo`): the version of the
 * configuration format, how releases are tagged, the phases every project may take part in,
 * and the publishers.
 */
export const RepositoryConfigSchema = z.looseObject({
  forgeVersion: z
    .string()
    .regex(SEMVER, 'must be a semantic version such as "1.0.0"')
    .refine((version) => SUPPORTED_FORGE_MAJORS.includes(forgeMajor(version)), {
      message: `major version is not supported (supported: ${SUPPORTED_FORGE_MAJORS.join(', ')})`,
    }),
  tagging: z
    .strictObject({ strategy: z.enum([TaggingStrategy.monorepo, TaggingStrategy.tagAll]) })
    .default({ strategy: TaggingStrategy.monorepo }),
  phases: z.record(kebabName, PhaseDefinitionSchema),
  publishers: z.record(z.string(), PublisherSchema).default({}),
});
export type RepositoryConfig = z.infer<typeof RepositoryConfigSchema>;

/** The major number of a `forgeVersion` that matched the semver pattern. */
function forgeMajor(version: string): number {
  return Number(SEMVER.exec(version)?.[1] ?? Number.NaN);
}
