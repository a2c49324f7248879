import type { ReleaseTrigger } from '../contracts/project-config.js';
import { TaggingStrategy } from '../contracts/repository-config.js';

/** What started the run, as far as release triggers care. */
export interface TriggerContext {
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
}

/**
 * Whether any of a project's release triggers matches the run (DESIGN.md section 3): a branch
 * trigger is an anchored regular expression over the run's branch; a tag trigger matches
 * `<project>/v*` under the `monorepo` strategy and `v*` under `tag-all`.
 */
export function releaseTriggerMatches(
  triggers: readonly ReleaseTrigger[],
  projectName: string,
  tagging: TaggingStrategy,
  context: TriggerContext,
): boolean {
  return triggers.some((trigger) => {
    if ('branch' in trigger) {
      return (
        context.branch !== undefined && new RegExp(`^(?:${trigger.branch})$`).test(context.branch)
      );
    }
    if (context.tag === undefined) return false;
    const prefix = tagging === TaggingStrategy.monorepo ? `${projectName}/v` : 'v';
    return context.tag.startsWith(prefix);
  });
}
