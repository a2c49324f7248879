import { z } from 'zod';
import { SecretReferenceSchema } from './project-config.js';
import { PublisherSchema, TaggingStrategy, kebabName } from './repository-config.js';

const stepOutputCommon = {
  name: kebabName,
  priority: z.int(),
  args: z.array(z.string()),
  secrets: z.array(SecretReferenceSchema),
  /** Seconds; the step's own timeout, else its phase's, else `null` (the worker's default). */
  timeout: z.int().positive().nullable(),
};

/** A step as discovery hands it to the engine: defaults applied, timeout resolved. */
export const StepSchema = z.discriminatedUnion('action', [
  z.strictObject({ ...stepOutputCommon, action: z.literal('earthly'), target: z.string() }),
  z.strictObject({ ...stepOutputCommon, action: z.literal('shell'), run: z.string() }),
]);
export type Step = z.infer<typeof StepSchema>;

/** One project that discovery found and loaded. */
export const DiscoveredProjectSchema = z.strictObject({
  name: kebabName,
  /** The project's folder relative to the repository root, POSIX separators, `.` for the root. */
  path: z.string(),
  /** Steps per phase, ordered by descending priority, then name. */
  phases: z.record(z.string(), z.array(StepSchema)),
  releaseTriggered: z.boolean(),
  deploymentTriggered: z.boolean(),
});
export type DiscoveredProject = z.infer<typeof DiscoveredProjectSchema>;

/** A project that discovery skipped, and why; `line` when the problem has one. */
export const DiscoveryProblemSchema = z.strictObject({
  path: z.string(),
  line: z.int().positive().optional(),
  message: z.string(),
});
export type DiscoveryProblem = z.infer<typeof DiscoveryProblemSchema>;

/** Phases that run at the same time; groups run one after another in ascending order. */
export const PhaseGroupSchema = z.strictObject({
  group: z.int().positive(),
  phases: z.array(z.string()),
});
export type PhaseGroup = z.infer<typeof PhaseGroupSchema>;

/**
 * The result of discovery (DESIGN.md section 4): the contract between the discovery worker,
 * the workflow engines and the reconciler. Deterministic for a given commit and trigger.
 */
export const DiscoveryOutputSchema = z.strictObject({
  repository: z.strictObject({
    forgeVersion: z.string(),
    tagging: z.strictObject({
      strategy: z.enum([TaggingStrategy.monorepo, TaggingStrategy.tagAll]),
    }),
    phases: z.record(
      z.string(),
      z.strictObject({
        group: z.int().positive(),
        description: z.string(),
        timeout: z.int().positive().nullable(),
        required: z.boolean(),
      }),
    ),
    publishers: z.record(z.string(), PublisherSchema),
  }),
  projects: z.array(DiscoveredProjectSchema),
  phaseGroups: z.array(PhaseGroupSchema),
  releaseEnabled: z.boolean(),
  releaseProjects: z.array(z.string()),
  errors: z.array(DiscoveryProblemSchema),
});
export type DiscoveryOutput = z.infer<typeof DiscoveryOutputSchema>;

/** Discovery limits (DESIGN.md section 3). */
export const DISCOVERY_LIMITS = {
  maxProjects: 100,
  maxOutputBytes: 1024 * 1024,
} as const;
