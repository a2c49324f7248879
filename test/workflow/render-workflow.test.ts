/**
 * The rendered workflow itself: that it is valid for Argo v4.1, and that its structure carries
 * the pipeline's rules (groups in sequence, fail-fast, tasks in parallel, conditional release,
 * deadlines, pod GC, resources, retries).
 */
import { describe, expect, it } from 'vitest';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import { WorkflowRunInvalidError } from '../../core/workflow/workflow-errors.js';
import type {
  ContainerTemplate,
  StepsTemplate,
  WorkflowManifest,
} from '../../core/workflow/workflow-manifest.js';
import { workflowValidator } from './argo-schema.js';
import { RUN_ID, WORKFLOW_SETTINGS, workflowRun } from './workflow-fixtures.js';

const validate = workflowValidator({ closed: false });
const validateClosed = workflowValidator({ closed: true });

function template(manifest: WorkflowManifest, name: string) {
  const found = manifest.spec.templates.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no template ${name}`);
  return found;
}

function stepsTemplate(manifest: WorkflowManifest, name: string): StepsTemplate {
  const found = template(manifest, name);
  if (!('steps' in found)) throw new Error(`${name} is not a steps template`);
  return found;
}

function containerTemplates(manifest: WorkflowManifest): ContainerTemplate[] {
  return manifest.spec.templates.filter((candidate) => 'container' in candidate);
}

describe('renderWorkflow', () => {
  it.each([
    ['a branch run with every setting', workflowRun(), WORKFLOW_SETTINGS],
    [
      'a tag run without secret, node selector or tolerations',
      workflowRun({ branch: undefined, tag: 'api/v1.2.0' }),
      { ...WORKFLOW_SETTINGS, dispatcherSecret: undefined, nodeSelector: {}, tolerations: [] },
    ],
  ])(
    'renders %s that Argo v4.1’s schema accepts, unknown fields refused',
    (_case, run, settings) => {
      const manifest = renderWorkflow(run, settings);

      const valid = validate(manifest);
      const validClosed = validateClosed(manifest);

      expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
      expect(valid).toBe(true);
      expect(validateClosed.errors ?? [], JSON.stringify(validateClosed.errors)).toEqual([]);
      expect(validClosed).toBe(true);
    },
  );

  it('is caught by the closed schema when a field is misspelt (the check can fail)', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    const misspelt = {
      ...manifest,
      spec: { ...manifest.spec, activeDeadlineSecond: 86_400 },
    };

    expect(validateClosed(misspelt)).toBe(false);
    expect(validate(misspelt)).toBe(true);
  });

  it('names the workflow after the run and labels it and its pods with run and repository', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    expect(manifest.metadata.name).toBe(`forge-run-${RUN_ID}`);
    expect(manifest.metadata.namespace).toBe('ci');
    const labels = {
      'app.kubernetes.io/managed-by': 'forge-pipeline',
      'forge.projectcatalyst.io/run-id': RUN_ID,
      'forge.projectcatalyst.io/repository': 'acme.monorepo',
    };
    expect(manifest.metadata.labels).toEqual(labels);
    expect(manifest.spec.podMetadata.labels).toEqual(labels);
    expect(manifest.metadata.annotations).toEqual({
      'forge.projectcatalyst.io/repository': 'acme/monorepo',
      'forge.projectcatalyst.io/commit': workflowRun().commit,
      'forge.projectcatalyst.io/branch': 'main',
    });
  });

  it('is deterministic: the same run renders the same manifest, another run another name', () => {
    const first = JSON.stringify(renderWorkflow(workflowRun(), WORKFLOW_SETTINGS));
    const again = JSON.stringify(renderWorkflow(workflowRun(), WORKFLOW_SETTINGS));
    const other = renderWorkflow(
      workflowRun({ runId: '9d2c4a10-0000-4000-8000-000000000001' }),
      WORKFLOW_SETTINGS,
    );

    expect(again).toBe(first);
    expect(other.metadata.name).toBe('forge-run-9d2c4a10-0000-4000-8000-000000000001');
  });

  it('runs discovery, then the phase groups, then the releases, one step group after another', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const pipeline = stepsTemplate(manifest, manifest.spec.entrypoint);

    expect(pipeline.steps.map((group) => group.map((step) => step.template))).toEqual([
      ['discovery'],
      ['phase-groups'],
      ['release'],
    ]);
  });

  it('runs the groups one at a time, stops scheduling after a failure, and never continues on one', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const loop = stepsTemplate(manifest, 'phase-groups');

    expect(loop.parallelism).toBe(1);
    expect(loop.failFast).toBe(true);
    expect(loop.steps).toHaveLength(1);
    expect(loop.steps[0]).toHaveLength(1);
    expect(loop.steps[0]?.[0]).toMatchObject({
      template: 'phase-group',
      withParam: '{{inputs.parameters.group-items}}',
    });
    expect(JSON.stringify(manifest)).not.toContain('continueOn');
  });

  it('runs the tasks of a group side by side, within the workflow’s parallelism of 100', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const group = stepsTemplate(manifest, 'phase-group');

    expect(manifest.spec.parallelism).toBe(100);
    expect(group.parallelism).toBeUndefined();
    expect(group.failFast).toBeUndefined();
    expect(group.steps).toEqual([
      [
        expect.objectContaining({
          template: 'task',
          withParam: '{{inputs.parameters.tasks}}',
        }),
      ],
    ]);
  });

  it('releases only when discovery enabled a release, one dispatcher per project', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const release = stepsTemplate(manifest, 'pipeline').steps[2]?.[0];

    expect(release).toEqual({
      name: 'release',
      template: 'release',
      when: '{{steps.discovery.outputs.parameters.release-enabled}} == true',
      withParam: '{{steps.discovery.outputs.parameters.release-projects}}',
      arguments: { parameters: [{ name: 'project', value: '{{item}}' }] },
    });
  });

  it('gives the run a 24 h deadline and deletes pods once they complete', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    expect(manifest.spec.activeDeadlineSeconds).toBe(86_400);
    expect(manifest.spec.podGC).toEqual({ strategy: 'OnPodCompletion' });
  });

  it('gives every dispatcher the specification’s resources and a retry that spares failed jobs', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const dispatchers = containerTemplates(manifest);

    expect(dispatchers.map((dispatcher) => dispatcher.name).sort()).toEqual([
      'cancel-run',
      'discovery',
      'release',
      'task',
    ]);
    for (const dispatcher of dispatchers) {
      expect(dispatcher.container.resources).toEqual({
        requests: { cpu: '50m', memory: '128Mi' },
        limits: { cpu: '200m', memory: '256Mi' },
      });
      expect(dispatcher.retryStrategy).toEqual({
        limit: '4',
        retryPolicy: 'Always',
        expression: "lastRetry.exitCode != '1' && lastRetry.exitCode != '2'",
        backoff: { duration: '10s', factor: '2', cap: '2m' },
      });
    }
  });

  it('lets job dispatchers leave their job running on SIGTERM, for the retry to attach to', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    for (const name of ['discovery', 'task', 'release']) {
      const { args } = (template(manifest, name) as ContainerTemplate).container;
      expect(args.join(' '), name).toContain('--on-sigterm detach');
    }
  });

  it('asks the run’s jobs to stop when the workflow ends without succeeding', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const exitHandler = stepsTemplate(manifest, manifest.spec.onExit);
    const cancelRun = template(manifest, 'cancel-run') as ContainerTemplate;

    expect(exitHandler.steps).toEqual([
      [
        {
          name: 'cancel-run',
          template: 'cancel-run',
          when: '{{workflow.status}} != Succeeded',
        },
      ],
    ]);
    expect(cancelRun.container.args).toEqual([
      'cancel-run',
      '--run-id',
      '{{workflow.parameters.run-id}}',
      '--reason',
      'workflow {{workflow.status}}',
    ]);
  });

  it('takes image, pull policy, service account, configuration and placement from the settings', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    expect(manifest.spec.serviceAccountName).toBe('forge-dispatcher');
    expect(manifest.spec.nodeSelector).toEqual({ 'forge.example.com/pool': 'dispatchers' });
    expect(manifest.spec.tolerations).toEqual(WORKFLOW_SETTINGS.tolerations);
    for (const { container } of containerTemplates(manifest)) {
      expect(container.image).toBe('registry.example.com/forge/dispatcher:1.4.2');
      expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(container.command).toEqual(['forge-dispatcher']);
      expect(container.env).toEqual([{ name: 'FORGE_MODE', value: 'aws' }]);
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'forge-dispatcher-config' } },
        { secretRef: { name: 'forge-dispatcher-secrets' } },
      ]);
    }
  });

  it('passes --branch and --tag only when the run has them', () => {
    const onBranch = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    const onTag = renderWorkflow(
      workflowRun({ branch: undefined, tag: 'v2.0.0' }),
      WORKFLOW_SETTINGS,
    );

    const args = (manifest: WorkflowManifest) =>
      (template(manifest, 'task') as ContainerTemplate).container.args;

    expect(args(onBranch)).toContain('--branch');
    expect(args(onBranch)).not.toContain('--tag');
    expect(args(onTag)).toContain('--tag');
    expect(args(onTag)).not.toContain('--branch');
    expect(onTag.spec.arguments.parameters.map((parameter) => parameter.name)).toEqual([
      'run-id',
      'repository',
      'clone-url',
      'commit',
      'tag',
    ]);
  });

  it('passes no step, folder or other text a repository author wrote through Argo', () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);

    const group = stepsTemplate(manifest, 'phase-group');
    const task = template(manifest, 'task') as ContainerTemplate;

    expect(group.steps[0]?.[0]?.arguments?.parameters).toEqual([
      { name: 'phase', value: '{{item.phase}}' },
      { name: 'project', value: '{{item.project}}' },
    ]);
    expect(task.container.args).toContain('--from-discovery');
    expect(task.container.args).not.toContain('--steps');
    expect(task.container.args).not.toContain('--project-path');
  });

  it.each([
    ['a run id Kubernetes cannot name a workflow after', { runId: 'run_1' }],
    ['a run id too long for a label', { runId: 'a'.repeat(54) }],
    ['a malformed commit', { commit: 'abc' }],
    ['a repository that is not owner/name', { repository: 'monorepo' }],
    ['an invalid branch name', { branch: 'a..b' }],
    ['a branch Argo would read as a template tag', { branch: 'feature/{{workflow.name}}' }],
    ['a clone URL Argo would read as a template tag', { cloneUrl: 'https://x/{{=1}}.git' }],
  ])('refuses %s', (_case, change) => {
    const rendering = () => renderWorkflow(workflowRun(change), WORKFLOW_SETTINGS);

    expect(rendering).toThrow(WorkflowRunInvalidError);
  });
});
