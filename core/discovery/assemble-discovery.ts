import type { z } from 'zod';
import {
  DISCOVERY_LIMITS,
  type DiscoveredProject,
  type DiscoveryOutput,
  type DiscoveryProblem,
  type PhaseGroup,
  type Step,
} from '../contracts/discovery-output.js';
import {
  ProjectConfigSchema,
  type ProjectConfig,
  type StepConfig,
} from '../contracts/project-config.js';
import type { RepositoryConfig } from '../contracts/repository-config.js';
import { DiscoveryLimitError } from './discovery-errors.js';
import { releaseTriggerMatches, type TriggerContext } from './release-triggers.js';
import { lineOfKeyPath } from './source-lines.js';

/** A project whose configuration evaluated; its schema is checked here. */
export interface EvaluatedProject {
  /** The project's folder, relative to the repository root (`.` for the root). */
  readonly path: string;
  /** The configuration file, relative to the repository root. */
  readonly file: string;
  /** The file as its author wrote it, to name lines in schema errors. */
  readonly source: string;
  /** What the evaluator exported. */
  readonly value: unknown;
}

export interface AssembleDiscoveryInput {
  readonly repository: RepositoryConfig;
  readonly projects: readonly EvaluatedProject[];
  /** Projects skipped before this point (unreadable, nested, failed to evaluate). */
  readonly problems: readonly DiscoveryProblem[];
  readonly trigger: TriggerContext;
}

/**
 * Builds the discovery output (DESIGN.md section 4) from the evaluated configurations: checks
 * each project against the schema and the repository's phases, resolves step defaults, orders
 * everything deterministically and evaluates release triggers. A bad project becomes an
 * `errors[]` entry; only the output size limit fails the whole discovery.
 */
export function assembleDiscoveryOutput(input: AssembleDiscoveryInput): DiscoveryOutput {
  const { repository, trigger } = input;
  const problems: DiscoveryProblem[] = [...input.problems];
  const projects: DiscoveredProject[] = [];
  const pathsByName = new Map<string, string>();

  for (const evaluated of [...input.projects].sort((a, b) => comparePaths(a.path, b.path))) {
    const parsed = ProjectConfigSchema.safeParse(evaluated.value);
    if (!parsed.success) {
      problems.push(schemaProblem(evaluated, parsed.error));
      continue;
    }
    const config = parsed.data;
    const phaseProblem = checkPhases(config, repository);
    if (phaseProblem) {
      problems.push({ path: evaluated.file, ...phaseProblem(evaluated.source) });
      continue;
    }
    const earlier = pathsByName.get(config.name);
    if (earlier !== undefined) {
      problems.push({
        path: evaluated.file,
        line: lineOfKeyPath(evaluated.source, ['name']),
        message: `project name "${config.name}" is already used by ${earlier}`,
      });
      continue;
    }
    pathsByName.set(config.name, evaluated.path);
    projects.push(discoveredProject(evaluated.path, config, repository, trigger));
  }

  const releaseProjects = projects.filter((p) => p.releaseTriggered).map((p) => p.name);
  const output: DiscoveryOutput = {
    repository: {
      forgeVersion: repository.forgeVersion,
      tagging: repository.tagging,
      phases: Object.fromEntries(
        Object.entries(repository.phases)
          .sort(([a], [b]) => compareText(a, b))
          .map(([name, phase]) => [
            name,
            {
              group: phase.group,
              description: phase.description,
              timeout: phase.timeout ?? null,
              required: phase.required,
            },
          ]),
      ),
      publishers: repository.publishers,
    },
    projects,
    phaseGroups: phaseGroupsOf(repository),
    releaseEnabled: releaseProjects.length > 0,
    releaseProjects,
    errors: problems.sort((a, b) => comparePaths(a.path, b.path) || (a.line ?? 0) - (b.line ?? 0)),
  };
  assertOutputSize(output);
  return output;
}

/** Every phase the repository defines, grouped, groups ascending, phases by name. */
export function phaseGroupsOf(repository: RepositoryConfig): PhaseGroup[] {
  const groups = new Map<number, string[]>();
  for (const [name, phase] of Object.entries(repository.phases)) {
    groups.set(phase.group, [...(groups.get(phase.group) ?? []), name]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([group, phases]) => ({ group, phases: phases.sort() }));
}

/** Orders steps as they run: higher priority first, then by name. */
export function compareSteps(a: Step, b: Step): number {
  return b.priority - a.priority || compareText(a.name, b.name);
}

function discoveredProject(
  path: string,
  config: ProjectConfig,
  repository: RepositoryConfig,
  trigger: TriggerContext,
): DiscoveredProject {
  const phases = Object.fromEntries(
    Object.entries(config.ci.phases)
      .sort(([a], [b]) => compareText(a, b))
      .map(([phaseName, steps]) => [
        phaseName,
        Object.entries(steps)
          .map(([stepName, step]) => toStep(stepName, step, repository.phases[phaseName]?.timeout))
          .sort(compareSteps),
      ]),
  );
  const release = config.release;
  const releaseTriggered =
    release !== undefined &&
    release.enabled &&
    releaseTriggerMatches(release.on, config.name, repository.tagging.strategy, trigger);
  return {
    name: config.name,
    path,
    phases,
    releaseTriggered,
    deploymentTriggered: releaseTriggered && config.deployment?.enabled === true,
  };
}

function toStep(name: string, step: StepConfig, phaseTimeout: number | undefined): Step {
  const rest = {
    priority: step.priority,
    args: step.args,
    secrets: step.secrets,
    timeout: step.timeout ?? phaseTimeout ?? null,
  };
  return step.action === 'earthly'
    ? { name, action: step.action, target: step.target, ...rest }
    : { name, action: step.action, run: step.run, ...rest };
}

/** The first phase rule the project breaks, as a problem builder that can look up its line. */
function checkPhases(
  config: ProjectConfig,
  repository: RepositoryConfig,
): ((source: string) => { line: number | undefined; message: string }) | undefined {
  const undefinedPhase = Object.keys(config.ci.phases).find(
    (phase) => !Object.hasOwn(repository.phases, phase),
  );
  if (undefinedPhase !== undefined) {
    return (source) => ({
      line: lineOfKeyPath(source, ['ci', 'phases', undefinedPhase]),
      message: `phase "${undefinedPhase}" is not defined in .forge/repo.cue (defined: ${Object.keys(repository.phases).sort().join(', ')})`,
    });
  }
  const missingRequired = Object.entries(repository.phases)
    .filter(([phase, definition]) => definition.required && !Object.hasOwn(config.ci.phases, phase))
    .map(([phase]) => phase)
    .sort();
  if (missingRequired.length > 0) {
    return () => ({
      line: undefined,
      message: `required phase${missingRequired.length > 1 ? 's' : ''} ${missingRequired.map((p) => `"${p}"`).join(', ')} missing from the project`,
    });
  }
  return undefined;
}

function schemaProblem(project: EvaluatedProject, error: z.ZodError): DiscoveryProblem {
  const issue = error.issues[0];
  const keys = issue?.path ?? [];
  const where = keys.length > 0 ? `${keys.join('.')}: ` : '';
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  return {
    path: project.file,
    line: lineOfKeyPath(project.source, unknownKey === undefined ? keys : [...keys, unknownKey]),
    message: `${where}${issue?.message ?? 'invalid project configuration'}`,
  };
}

function assertOutputSize(output: DiscoveryOutput): void {
  const bytes = new TextEncoder().encode(JSON.stringify(output)).byteLength;
  if (bytes > DISCOVERY_LIMITS.maxOutputBytes) {
    throw new DiscoveryLimitError(
      `discovery output is ${bytes} bytes, over the limit of ${DISCOVERY_LIMITS.maxOutputBytes} bytes (1 MB)`,
    );
  }
}

/** Orders repository-relative paths by their segments, so `a/b` sorts before `a-b`; `.` first. */
export function comparePaths(a: string, b: string): number {
  const left = segmentsOf(a);
  const right = segmentsOf(b);
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const order = compareText(left[i] as string, right[i] as string);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** The root (`.`) has no segments, so it sorts before every path, `-x` included. */
function segmentsOf(path: string): string[] {
  return path === '.' ? [] : path.split('/');
}

/** Orders text by UTF-16 code units: the same on every machine, whatever its locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a === b ? 0 : 1;
}
