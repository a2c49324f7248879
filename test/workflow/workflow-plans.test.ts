/**
 * The rendered workflow run against real discovery outputs: the discovery dispatcher's output
 * files are written by the dispatcher's own code, fed back as Argo would read them, substituted
 * and expanded as Argo's controller does (`argo-substitution.ts`), and the resulting dispatcher
 * pods are checked against the run plan (`buildRunPlan`), Argo's schema and its size limits.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISCOVERY_LIMITS, type DiscoveryOutput } from '../../core/contracts/discovery-output.js';
import { discoveryJobId, taskJobId } from '../../core/contracts/jobs.js';
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import { buildRunPlan } from '../../core/plan/run-plan.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import type { ContainerTemplate, WorkflowManifest } from '../../core/workflow/workflow-manifest.js';
import { loadDiscoveredTask } from '../../dispatcher/discovered-task.js';
import {
  writeDiscoveryOutputs,
  type DiscoveryOutputFiles,
} from '../../dispatcher/dispatcher-outputs.js';
import { taskMessage } from '../../dispatcher/job-messages.js';
import { useEmbeddedJobPlane } from '../dispatcher/job-plane-fixture.js';
import { simulateWorkflow, type SimulatedPod } from './argo-run-simulation.js';
import { workflowValidator } from './argo-schema.js';
import { MAX_WORKFLOW_SIZE, estimateStatusSize } from './argo-status-size.js';
import {
  RUN_ID,
  WORKFLOW_SETTINGS,
  discoveryOutput,
  workflowRun,
  type DiscoveryShape,
} from './workflow-fixtures.js';

/** Linux's limit on one argument (`MAX_ARG_STRLEN`); Argo moves larger ones to files. */
const MAX_ARGUMENT_BYTES = 131_072;

/** The discovery command's output flags, as `forge-dispatcher` maps them to its files. */
const OUTPUT_FLAGS: Readonly<Record<string, keyof DiscoveryOutputFiles>> = {
  '--output': 'output',
  '--output-group-items': 'groupItems',
  '--output-group-tasks': 'groupTasks',
  '--output-release-enabled': 'releaseEnabled',
  '--output-release-projects': 'releaseProjects',
};

const validateClosed = workflowValidator({ closed: true });

const fixture = useEmbeddedJobPlane('forge-workflow-plans-');

function containerTemplate(manifest: WorkflowManifest, name: string): ContainerTemplate {
  const found = manifest.spec.templates.find((template) => template.name === name);
  if (found === undefined || !('container' in found)) throw new Error(`no container ${name}`);
  return found;
}

/**
 * Writes the discovery output files where the manifest's discovery arguments say, through the
 * dispatcher's own writer, and reads back each output parameter from its declared path.
 */
async function discoveryParameters(
  manifest: WorkflowManifest,
  output: DiscoveryOutput,
): Promise<Record<string, string>> {
  const discovery = containerTemplate(manifest, 'discovery');
  const local = (path: string) => join(fixture.folder, 'outputs', basename(path));
  const files: Record<string, string> = {};
  discovery.container.args.forEach((arg, index) => {
    const key = OUTPUT_FLAGS[arg];
    const path = discovery.container.args[index + 1];
    if (key !== undefined && path !== undefined) files[key] = local(path);
  });
  await writeDiscoveryOutputs(output, files as unknown as DiscoveryOutputFiles);
  const parameters: Record<string, string> = {};
  for (const parameter of discovery.outputs?.parameters ?? []) {
    const path = parameter.valueFrom?.path;
    if (path !== undefined) parameters[parameter.name] = await readFile(local(path), 'utf8');
  }
  return parameters;
}

/** Records run `RUN_ID`'s discovery as completed, with its output in the results bucket. */
async function recordDiscovery(output: DiscoveryOutput): Promise<void> {
  const jobId = discoveryJobId(RUN_ID);
  const key = discoveryResultKey(RUN_ID);
  await fixture.plane.jobs.create({ job_id: jobId, run_id: RUN_ID, type: 'discovery' });
  await fixture.plane.jobs.transition(jobId, 'running', { worker_id: 'test' });
  await fixture.plane.blobs.results.put(key, JSON.stringify(output));
  await fixture.plane.jobs.transition(jobId, 'completed', {
    result_location: fixture.plane.blobs.results.locationOf(key),
  });
}

function flag(pod: SimulatedPod, name: string): string | undefined {
  const index = pod.args.indexOf(name);
  return index === -1 ? undefined : pod.args[index + 1];
}

/** The group position of a task pod, from its node name (`...group(<index>:...`). */
function groupIndex(pod: SimulatedPod): number {
  const match = /\.group\((\d+):/.exec(pod.nodeName);
  if (match === null) throw new Error(`${pod.nodeName} is not inside a group`);
  return Number(match[1]);
}

/** A discovery output of 100 projects padded to just under the 1 MB limit. */
function largestOutput(): DiscoveryOutput {
  const shape = { groups: 3, phasesPerGroup: 2, projects: 100, stepsPerTask: 3, released: [7] };
  const unpadded = Buffer.byteLength(JSON.stringify(discoveryOutput(shape)));
  const steps = discoveryOutput(shape).projects.reduce(
    (count, project) => count + Object.values(project.phases).flat().length,
    0,
  );
  const padding = Math.floor((DISCOVERY_LIMITS.maxOutputBytes - unpadded - 2048) / steps);
  return discoveryOutput({ ...shape, commandPadding: padding });
}

const SHAPES: readonly [string, () => DiscoveryOutput][] = [
  [
    '1 group',
    () =>
      discoveryOutput({
        groups: 1,
        phasesPerGroup: 2,
        projects: 5,
        stepsPerTask: 2,
        released: [1],
      }),
  ],
  [
    '3 groups',
    () => discoveryOutput({ groups: 3, phasesPerGroup: 2, projects: 12, stepsPerTask: 3 }),
  ],
  [
    '10 groups',
    () =>
      discoveryOutput({
        groups: 10,
        phasesPerGroup: 1,
        projects: 8,
        stepsPerTask: 1,
        released: [0, 3],
      } satisfies DiscoveryShape),
  ],
  [
    '100 projects',
    () =>
      discoveryOutput({
        groups: 3,
        phasesPerGroup: 2,
        projects: 100,
        stepsPerTask: 3,
        released: [4, 50, 99],
      }),
  ],
  ['100 projects at the 1 MB discovery output limit', largestOutput],
];

describe('a rendered workflow run against discovery outputs', () => {
  it.each(SHAPES)(
    'with %s runs the plan’s groups in order, each task once, releases as planned',
    async (_shape, makeOutput) => {
      const output = makeOutput();
      const plan = buildRunPlan(RUN_ID, output);
      const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
      const parameters = await discoveryParameters(manifest, output);
      await recordDiscovery(output);

      const { pods } = simulateWorkflow(manifest, { discoveryOutputs: parameters });

      const tasks = pods.filter((pod) => pod.template === 'task');
      const groupsInOrder = [...new Set(tasks.map(groupIndex))];
      expect(groupsInOrder).toEqual(
        plan.groups.flatMap((group, index) => (group.tasks.length > 0 ? [index] : [])),
      );
      for (const [index, group] of plan.groups.entries()) {
        const ofGroup = tasks.filter((pod) => groupIndex(pod) === index);
        const jobIds = ofGroup.map((pod) =>
          taskJobId(RUN_ID, flag(pod, '--phase') as string, flag(pod, '--project') as string),
        );
        expect(jobIds).toEqual(group.tasks.map((task) => task.jobId));
      }
      // What each task dispatcher then loads from discovery (every task of small runs, a spread
      // of 20 of large ones: each load reads and checks the whole output).
      const planned = plan.groups.flatMap((group) => group.tasks);
      const every = Math.max(1, Math.floor(tasks.length / 20));
      for (const [index, pod] of tasks.entries()) {
        if (index % every !== 0) continue;
        const loaded = await loadDiscoveredTask(
          fixture.plane,
          RUN_ID,
          flag(pod, '--phase') as string,
          flag(pod, '--project') as string,
        );
        const source = { ...workflowRun(), deadline: new Date('2030-01-01T00:00:00Z') };
        const task = planned[index];
        expect(taskMessage(source, loaded).job_id).toBe(task?.jobId);
        expect([loaded.projectPath, loaded.steps]).toEqual([task?.projectPath, task?.steps]);
      }
      const releases = pods.filter((pod) => pod.template === 'release');
      expect(releases.map((pod) => flag(pod, '--projects'))).toEqual(plan.release.projects);
      expect(pods[0]?.template).toBe('discovery');
      expect(pods.at(-1)?.template).toBe(plan.release.enabled ? 'release' : 'task');
    },
  );

  it.each(SHAPES)(
    'with %s keeps every substituted dispatcher valid and within Argo’s size limits',
    async (_shape, makeOutput) => {
      const output = makeOutput();
      const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
      const parameters = await discoveryParameters(manifest, output);

      const { pods, nodes } = simulateWorkflow(manifest, { discoveryOutputs: parameters });

      const size = estimateStatusSize(manifest, nodes);
      for (const pod of pods) {
        const workflow = { ...manifest, spec: { ...manifest.spec, templates: [pod.resolved] } };
        expect(validateClosed(workflow), JSON.stringify(validateClosed.errors)).toBe(true);
        expect(Buffer.byteLength(JSON.stringify(pod.args))).toBeLessThan(MAX_ARGUMENT_BYTES);
      }
      expect(Buffer.byteLength(JSON.stringify(manifest))).toBeLessThan(16 * 1024);
      for (const value of Object.values(parameters)) {
        expect(Buffer.byteLength(value)).toBeLessThan(64 * 1024);
      }
      expect(size.compressedBytes).toBeLessThan(MAX_WORKFLOW_SIZE / 4);
    },
  );

  it('runs a group without tasks as an empty step, and the next group after it', async () => {
    const output = discoveryOutput({ groups: 3, phasesPerGroup: 1, projects: 4, stepsPerTask: 1 });
    const emptied: DiscoveryOutput = {
      ...output,
      projects: output.projects.map((project) => ({
        ...project,
        phases: Object.fromEntries(
          Object.entries(project.phases).filter(([phase]) => !phase.startsWith('g02-')),
        ),
      })),
    };
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    const parameters = await discoveryParameters(manifest, emptied);

    const { pods, nodes } = simulateWorkflow(manifest, { discoveryOutputs: parameters });

    const groups = nodes.filter((node) => node.template === 'phase-group');
    expect(groups.map((node) => node.parameters['group'])).toEqual(['1', '2', '3']);
    expect(groups.map((node) => node.parameters['tasks'])).toContain('[]');
    expect([...new Set(pods.filter((pod) => pod.template === 'task').map(groupIndex))]).toEqual([
      0, 2,
    ]);
  });

  it('keeps a group’s task list out of the names of the nodes below it', async () => {
    const output = discoveryOutput({
      groups: 1,
      phasesPerGroup: 2,
      projects: 100,
      stepsPerTask: 1,
    });
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    const parameters = await discoveryParameters(manifest, output);

    const { nodes } = simulateWorkflow(manifest, { discoveryOutputs: parameters });

    const longest = Math.max(...nodes.map((node) => node.name.length));
    expect(nodes.filter((node) => node.type === 'Pod')).toHaveLength(1 + 150);
    expect(longest).toBeLessThan(200);
  });

  it('asks the run’s jobs to stop when the workflow ends unsuccessfully, and only then', async () => {
    const output = discoveryOutput({ groups: 1, phasesPerGroup: 1, projects: 2, stepsPerTask: 1 });
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    const parameters = await discoveryParameters(manifest, output);

    const succeeded = simulateWorkflow(manifest, { discoveryOutputs: parameters });
    const failed = simulateWorkflow(manifest, {
      discoveryOutputs: parameters,
      workflowStatus: 'Failed',
    });

    expect(succeeded.pods.filter((pod) => pod.template === 'cancel-run')).toEqual([]);
    const cancel = failed.pods.filter((pod) => pod.template === 'cancel-run');
    expect(cancel.map((pod) => pod.args)).toEqual([
      ['cancel-run', '--run-id', RUN_ID, '--reason', 'workflow Failed'],
    ]);
  });
});
