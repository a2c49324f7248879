/**
 * Builders for Forge configuration files in tests, so a test states only what it is about.
 */

export interface PhaseSpec {
  readonly group: number;
  readonly timeout?: string;
  readonly required?: boolean;
}

/** A `.forge/repo.cue` with the given phases (default: `test` in group 1, `build` in group 2). */
export function repoCue(
  options: {
    phases?: Record<string, PhaseSpec>;
    tagging?: 'monorepo' | 'tag-all';
    forgeVersion?: string;
  } = {},
): string {
  const phases = options.phases ?? { test: { group: 1 }, build: { group: 2 } };
  const phaseLines = Object.entries(phases).map(([name, phase]) => {
    const fields = [`group: ${phase.group}`, `description: "${name}"`];
    if (phase.timeout) fields.push(`timeout: "${phase.timeout}"`);
    if (phase.required) fields.push('required: true');
    return `\t${name}: {${fields.join(', ')}}`;
  });
  return [
    'package repo',
    '',
    `forgeVersion: "${options.forgeVersion ?? '1.0.0'}"`,
    `tagging: strategy: "${options.tagging ?? 'monorepo'}"`,
    'phases: {',
    ...phaseLines,
    '}',
    '',
  ].join('\n');
}

/** A `.forge/project.cue` named `name` with one shell step per phase unless `body` says more. */
export function projectCue(
  name: string,
  body = 'ci: phases: test: unit: {action: "shell", run: "true"}',
): string {
  return ['package project', '', `name: "${name}"`, '', body, ''].join('\n');
}
