import { z } from 'zod';
import { CommitShaSchema, GitRefNameSchema, RepositoryFullNameSchema } from '../contracts/api.js';
import { JobIdSegmentSchema } from '../contracts/jobs.js';
import type { WorkflowRun } from '../ports/workflow-engine.js';
import { dispatcherTemplates } from './dispatcher-templates.js';
import { WorkflowRunInvalidError } from './workflow-errors.js';
import type {
  StepsTemplate,
  WorkflowManifest,
  WorkflowParameter,
  WorkflowSpec,
} from './workflow-manifest.js';
import {
  MANAGED_BY,
  WorkflowAnnotation,
  WorkflowLabel,
  repositoryLabelValue,
  workflowName,
} from './workflow-names.js';
import type { WorkflowSettings } from './workflow-settings.js';
import { DiscoveryParameter, RunParameter, TemplateName } from './template-names.js';

/** Dispatcher pods of one run running at once (the specification's `parallelism`). */
export const WORKFLOW_PARALLELISM = 100;
/** A run's deadline: 24 hours (DESIGN.md section 5). */
export const RUN_DEADLINE_SECONDS = 86_400;

/**
 * Argo substitutes `{{...}}` in a value it has already substituted into a template (the two
 * passes of `SubstituteParams`, then `substitutePodParams` on the pod), so a run fact holding
 * `{{` would reach the dispatcher rewritten, or have an expression evaluated. No real branch,
 * tag or clone URL needs it; such a run is refused rather than silently changed.
 */
const noArgoTag = (schema: z.ZodString) =>
  schema.refine((value) => !value.includes('{{'), 'must not contain "{{" (an Argo template tag)');

const WorkflowRunSchema = z.object({
  runId: JobIdSegmentSchema,
  repository: RepositoryFullNameSchema,
  cloneUrl: noArgoTag(z.string().min(1)),
  commit: CommitShaSchema,
  branch: noArgoTag(GitRefNameSchema).optional(),
  tag: noArgoTag(GitRefNameSchema).optional(),
});

/**
 * Renders run `run`'s Argo Workflow, pure and deterministic: the same run and settings give the
 * same manifest. The workflow is submitted when the run is created, before discovery, so its
 * shape is fixed and the groups arrive at run time as the discovery dispatcher's outputs:
 *
 * 1. `discovery`: dispatches the discovery job and outputs the phase groups as small loop
 *    items, each group's tasks by phase and project name, whether to release and what;
 * 2. `phase-groups`: a loop over the groups with `parallelism: 1` and `failFast: true`, so the
 *    groups run one after another and a failed group stops the next from being scheduled;
 *    each group runs its tasks' dispatchers side by side (a loop over its tasks), each of which
 *    reads its project folder and steps from the run's discovery output;
 * 3. `release`: one dispatcher per released project, only when discovery enabled a release;
 *
 * and, when the workflow ends without succeeding (a failure, a stop, its deadline), the exit
 * handler asks every job of the run still going to stop.
 *
 * Only names and numbers flow through Argo's parameters: Argo substitutes `{{...}}` again in
 * values it substituted before (`SubstituteParams`' second pass, `resolveReferences` on a
 * loop's `withParam`, `substitutePodParams` on the pod), so a step such as
 * `docker inspect -f '{{.Id}}'`, or `{{=...}}`, would be rewritten or evaluated on its way; and
 * the size of a run's steps never meets a limit of Argo's. Throws
 * {@link WorkflowRunInvalidError} for a run that cannot become a workflow.
 */
export function renderWorkflow(run: WorkflowRun, settings: WorkflowSettings): WorkflowManifest {
  const parsed = WorkflowRunSchema.safeParse(run);
  if (!parsed.success) {
    throw new WorkflowRunInvalidError(
      `run ${JSON.stringify(run.runId)} cannot become a workflow: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`,
    );
  }
  const checked: WorkflowRun = parsed.data;
  const name = workflowName(checked.runId);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      name,
      namespace: settings.namespace,
      labels: runLabels(checked),
      annotations: {
        [WorkflowAnnotation.repository]: checked.repository,
        [WorkflowAnnotation.commit]: checked.commit,
        ...(checked.branch === undefined ? {} : { [WorkflowAnnotation.branch]: checked.branch }),
        ...(checked.tag === undefined ? {} : { [WorkflowAnnotation.tag]: checked.tag }),
      },
    },
    spec: workflowSpec(checked, settings),
  };
}

function workflowSpec(run: WorkflowRun, settings: WorkflowSettings): WorkflowSpec {
  const dispatchers = dispatcherTemplates(run, settings);
  return {
    entrypoint: TemplateName.pipeline,
    onExit: TemplateName.exitHandler,
    arguments: { parameters: runArguments(run) },
    parallelism: WORKFLOW_PARALLELISM,
    activeDeadlineSeconds: RUN_DEADLINE_SECONDS,
    podGC: { strategy: 'OnPodCompletion' },
    serviceAccountName: settings.serviceAccountName,
    podMetadata: { labels: runLabels(run) },
    ...(Object.keys(settings.nodeSelector).length === 0
      ? {}
      : { nodeSelector: { ...settings.nodeSelector } }),
    ...(settings.tolerations.length === 0 ? {} : { tolerations: [...settings.tolerations] }),
    templates: [
      pipelineTemplate(),
      dispatchers.discovery,
      phaseGroupsTemplate(),
      phaseGroupTemplate(),
      dispatchers.task,
      dispatchers.release,
      exitHandlerTemplate(),
      dispatchers.cancelRun,
    ],
  };
}

function runLabels(run: WorkflowRun): Record<string, string> {
  return {
    [WorkflowLabel.managedBy]: MANAGED_BY,
    [WorkflowLabel.runId]: run.runId,
    [WorkflowLabel.repository]: repositoryLabelValue(run.repository),
  };
}

function runArguments(run: WorkflowRun): WorkflowParameter[] {
  return [
    { name: RunParameter.runId, value: run.runId },
    { name: RunParameter.repository, value: run.repository },
    { name: RunParameter.cloneUrl, value: run.cloneUrl },
    { name: RunParameter.commit, value: run.commit },
    ...(run.branch === undefined ? [] : [{ name: RunParameter.branch, value: run.branch }]),
    ...(run.tag === undefined ? [] : [{ name: RunParameter.tag, value: run.tag }]),
  ];
}

const discoveryOutput = (name: string) => `{{steps.discovery.outputs.parameters.${name}}}`;

/** Discovery, then the groups, then the releases: each step group starts when the one before succeeded. */
function pipelineTemplate(): StepsTemplate {
  return {
    name: TemplateName.pipeline,
    steps: [
      [{ name: 'discovery', template: TemplateName.discovery }],
      [
        {
          name: 'phase-groups',
          template: TemplateName.phaseGroups,
          arguments: {
            parameters: [
              { name: 'group-items', value: discoveryOutput(DiscoveryParameter.groupItems) },
              { name: 'group-tasks', value: discoveryOutput(DiscoveryParameter.groupTasks) },
            ],
          },
        },
      ],
      [
        {
          name: 'release',
          template: TemplateName.release,
          when: `${discoveryOutput(DiscoveryParameter.releaseEnabled)} == true`,
          withParam: discoveryOutput(DiscoveryParameter.releaseProjects),
          arguments: { parameters: [{ name: 'project', value: '{{item}}' }] },
        },
      ],
    ],
  };
}

/**
 * The groups, strictly one after another. Why this holds, from Argo's controller
 * (argoproj/argo-workflows v4.1, `workflow/controller/operator.go` `checkParallelism` and
 * `node_counters.go`): before a child of a steps template is started, the template's
 * `parallelism` is compared with its active children (pods, steps and DAG nodes whose boundary
 * is this template's node), and a group's own task pods have the group's node as boundary, so
 * `parallelism: 1` admits one group at a time however many tasks it runs
 * (`examples/parallelism-nested-workflow.yaml` is this shape). `steps.go` `executeStepGroup`
 * starts the expanded items in list order, so group n+1 waits for group n. With
 * `failFast: true` (`Template.IsFailFast` is false unless set), a failed or errored child stops
 * all further scheduling and the loop fails once nothing of it runs.
 *
 * The loop's items are the small `{index, group, phases}` objects, not the groups' task lists:
 * Argo names each node after its loop item (`processItem`) and each child node's name contains
 * its parent's, so a task list in the group's item would be copied into the name of every node
 * below it. The group's tasks are picked from the group tasks by index instead (`jsonpath` and
 * `toJson`, Argo's expression functions; `item.index` resolves in expressions since Argo expands
 * the dotted loop variables into maps).
 */
function phaseGroupsTemplate(): StepsTemplate {
  return {
    name: TemplateName.phaseGroups,
    inputs: { parameters: [{ name: 'group-items' }, { name: 'group-tasks' }] },
    parallelism: 1,
    failFast: true,
    steps: [
      [
        {
          name: 'group',
          template: TemplateName.phaseGroup,
          withParam: '{{inputs.parameters.group-items}}',
          arguments: {
            parameters: [
              { name: 'group', value: '{{item.group}}' },
              {
                name: 'tasks',
                value:
                  "{{=toJson(jsonpath(inputs.parameters['group-tasks'], '$[' + item.index + ']'))}}",
              },
            ],
          },
        },
      ],
    ],
  };
}

/**
 * One group: all its tasks' dispatchers at once (within the workflow's `parallelism`). No
 * `failFast` here: a failed attempt that Argo is about to retry would count as a failed child
 * and stop the group. A task whose job fails asks the run's other jobs to stop instead
 * (`forge-dispatcher`'s fail-fast), so its siblings end quickly and the group fails.
 */
function phaseGroupTemplate(): StepsTemplate {
  return {
    name: TemplateName.phaseGroup,
    inputs: { parameters: [{ name: 'group' }, { name: 'tasks' }] },
    steps: [
      [
        {
          name: 'task',
          template: TemplateName.task,
          withParam: '{{inputs.parameters.tasks}}',
          arguments: {
            parameters: [
              { name: 'phase', value: '{{item.phase}}' },
              { name: 'project', value: '{{item.project}}' },
            ],
          },
        },
      ],
    ],
  };
}

/**
 * Runs when the workflow ends. Unless it succeeded (failed, stopped, past its deadline), the
 * run's jobs still pending or running are asked to stop: dispatchers leave their jobs running
 * on SIGTERM (an eviction must not cancel a job), so this is where a stopped run stops them.
 * Exit handler pods run under `shutdown: Stop` and past the deadline, not under `Terminate`.
 */
function exitHandlerTemplate(): StepsTemplate {
  return {
    name: TemplateName.exitHandler,
    steps: [
      [
        {
          name: 'cancel-run',
          template: TemplateName.cancelRun,
          when: '{{workflow.status}} != Succeeded',
        },
      ],
    ],
  };
}
