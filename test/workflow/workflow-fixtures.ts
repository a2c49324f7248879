/**
 * Inputs shared by the workflow tests: cluster settings, a run, and discovery outputs of any
 * size that satisfy the discovery output contract.
 */
import {
  DiscoveryOutputSchema,
  type DiscoveryOutput,
  type Step,
} from '../../core/contracts/discovery-output.js';
import type { WorkflowRun } from '../../core/ports/workflow-engine.js';
import type { WorkflowSettings } from '../../core/workflow/workflow-settings.js';

/** A run id as the control plane makes them. */
export const RUN_ID = '0b7e3f1c-8f57-4a43-9b5e-3c1b0e6a2d11';

/** Cluster settings with every optional part set. */
export const WORKFLOW_SETTINGS: WorkflowSettings = {
  namespace: 'ci',
  dispatcherImage: 'registry.example.com/forge/dispatcher:1.4.2',
  imagePullPolicy: 'IfNotPresent',
  serviceAccountName: 'forge-dispatcher',
  dispatcherConfigMap: 'forge-dispatcher-config',
  dispatcherSecret: 'forge-dispatcher-secrets',
  nodeSelector: { 'forge.example.com/pool': 'dispatchers' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }],
};

/** A run on `main` of `acme/monorepo`. */
export function workflowRun(overrides: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    runId: RUN_ID,
    repository: 'acme/monorepo',
    cloneUrl: 'https://github.com/acme/monorepo.git',
    commit: 'c0ffee'.padEnd(40, '0'),
    branch: 'main',
    ...overrides,
  };
}

/** The shape of a generated discovery output. */
export interface DiscoveryShape {
  readonly groups: number;
  readonly phasesPerGroup: number;
  readonly projects: number;
  readonly stepsPerTask: number;
  /** Extra characters in each step's command, to reach a size. */
  readonly commandPadding?: number;
  /** Projects whose release triggered (by index). */
  readonly released?: readonly number[];
}

/**
 * A discovery output of `projects` projects and `groups` phase groups. Project `i` takes part in
 * phase `p` unless `(i + p) % 4 === 3`, so phases differ in their projects; every group still
 * has tasks. Projects are sorted by path, steps by descending priority: as discovery outputs.
 */
export function discoveryOutput(shape: DiscoveryShape): DiscoveryOutput {
  const phases: DiscoveryOutput['repository']['phases'] = {};
  const phaseGroups: DiscoveryOutput['phaseGroups'] = [];
  let phaseNumber = 0;
  const phaseNumbers = new Map<string, number>();
  for (let group = 1; group <= shape.groups; group++) {
    const names: string[] = [];
    for (let index = 1; index <= shape.phasesPerGroup; index++) {
      const name = `g${String(group).padStart(2, '0')}-phase-${index}`;
      phases[name] = { group, description: `phase ${name}`, timeout: 600, required: false };
      phaseNumbers.set(name, phaseNumber++);
      names.push(name);
    }
    phaseGroups.push({ group, phases: names });
  }
  const released = new Set(shape.released ?? []);
  const projects = Array.from({ length: shape.projects }, (_, index) => {
    const name = `project-${String(index).padStart(3, '0')}`;
    const taken = Object.keys(phases).filter(
      (phase) => (index + (phaseNumbers.get(phase) ?? 0)) % 4 !== 3,
    );
    return {
      name,
      path: `services/${name}`,
      phases: Object.fromEntries(taken.map((phase) => [phase, steps(shape, phase, name)])),
      releaseTriggered: released.has(index),
      deploymentTriggered: false,
    };
  });
  const releaseProjects = projects.filter((project) => project.releaseTriggered);
  return DiscoveryOutputSchema.parse({
    repository: {
      forgeVersion: '1.0.0',
      tagging: { strategy: 'monorepo' },
      phases,
      publishers: {},
    },
    projects,
    phaseGroups,
    releaseEnabled: releaseProjects.length > 0,
    releaseProjects: releaseProjects.map((project) => project.name),
    errors: [],
  });
}

function steps(shape: DiscoveryShape, phase: string, project: string): Step[] {
  return Array.from({ length: shape.stepsPerTask }, (_, index) => ({
    name: `step-${index}`,
    action: 'shell',
    run: `make ${phase} PROJECT=${project} ${'x'.repeat(shape.commandPadding ?? 0)}`.trimEnd(),
    priority: shape.stepsPerTask - index,
    args: [],
    secrets: [],
    timeout: 600,
  }));
}
