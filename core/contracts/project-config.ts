import { z } from 'zod';
import { durationSeconds } from '../duration.js';
import { kebabName } from './repository-config.js';

/** Where a step's secret comes from, and the environment variable the step sees it in. */
export const SecretReferenceSchema = z.strictObject({
  provider: z.string().min(1),
  path: z.string().min(1),
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
});
export type SecretReference = z.infer<typeof SecretReferenceSchema>;

const stepCommon = {
  priority: z.int().default(0),
  args: z.array(z.string()).default([]),
  secrets: z.array(SecretReferenceSchema).default([]),
  timeout: durationSeconds.optional(),
};

/** A step as a project configures it: an Earthly target, or a shell command (DESIGN.md section 3). */
export const StepConfigSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('earthly'), target: z.string().min(1), ...stepCommon }),
  z.strictObject({ action: z.literal('shell'), run: z.string().min(1), ...stepCommon }),
]);
export type StepConfig = z.infer<typeof StepConfigSchema>;

/** One release trigger: a branch pattern (anchored regular expression) or any release tag. */
export const ReleaseTriggerSchema = z.union([
  z.strictObject({
    branch: z.string().refine(isRegularExpression, 'must be a valid regular expression'),
  }),
  z.strictObject({ tag: z.literal(true) }),
]);
export type ReleaseTrigger = z.infer<typeof ReleaseTriggerSchema>;

/**
 * The evaluated `<dir>/.forge/project.cue` of one project (package `project`). Sections other
 * components own (`artifacts`, `deployment`) are carried, not interpreted, except the switch
 * that says whether a release deploys.
 */
export const ProjectConfigSchema = z.looseObject({
  name: kebabName,
  ci: z
    .strictObject({
      phases: z.record(kebabName, z.record(kebabName, StepConfigSchema)).default({}),
    })
    .default({ phases: {} }),
  release: z
    .strictObject({
      on: z.array(ReleaseTriggerSchema).default([]),
      enabled: z.boolean().default(true),
    })
    .optional(),
  artifacts: z.record(z.string(), z.unknown()).optional(),
  deployment: z.looseObject({ enabled: z.boolean().default(true) }).optional(),
});
export type ProjectConfig = z.infer<typeof ProjectConfigSchema>;

function isRegularExpression(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
