import type { WorkflowRun } from '../ports/workflow-engine.js';
import type { ContainerTemplate, RetryStrategy, WorkflowContainer } from './workflow-manifest.js';
import type { WorkflowSettings } from './workflow-settings.js';
import {
  DiscoveryParameter,
  RunParameter,
  TemplateName,
  runParameterRef,
} from './template-names.js';

/** The dispatcher's executable in its image. */
export const DISPATCHER_COMMAND = 'forge-dispatcher';

/** Where dispatchers write what Argo reads back as output parameters. */
export const DispatcherFile = {
  discovery: '/tmp/forge/discovery.json',
  groupItems: '/tmp/forge/group-items.json',
  groupTasks: '/tmp/forge/group-tasks.json',
  releaseEnabled: '/tmp/forge/release-enabled.json',
  releaseProjects: '/tmp/forge/release-projects.json',
  task: '/tmp/forge/task.json',
  release: '/tmp/forge/release.json',
} as const;

/** A dispatcher only submits and polls: the specification's requests and limits. */
export const DISPATCHER_RESOURCES = {
  requests: { cpu: '50m', memory: '128Mi' },
  limits: { cpu: '200m', memory: '256Mi' },
} as const;

/**
 * Retries of a dispatcher pod. `forge-dispatcher` exits 1 when its job failed, was cancelled or
 * overran its deadline, and 2 for a usage or configuration error: both are final, a retry would
 * only report them again. Everything else is retried with backoff: 3 (the job plane could not
 * be reached, or the dispatcher was stopped by SIGTERM and left its job running), a pod killed
 * or lost with its node (137, 143, or `-1` when no exit code was recorded), an Argo `Error`.
 * The retry submits nothing new: the job id is deterministic, so it attaches to the same job.
 * Argo does not retry once the workflow is shutting down or past its deadline.
 */
export const DISPATCHER_RETRY_STRATEGY: RetryStrategy = {
  limit: '4',
  retryPolicy: 'Always',
  expression: "lastRetry.exitCode != '1' && lastRetry.exitCode != '2'",
  backoff: { duration: '10s', factor: '2', cap: '2m' },
};

/** The dispatcher templates of a run's workflow, by role. */
export interface DispatcherTemplates {
  readonly discovery: ContainerTemplate;
  readonly task: ContainerTemplate;
  readonly release: ContainerTemplate;
  readonly cancelRun: ContainerTemplate;
}

/**
 * The container templates that run `forge-dispatcher`: discovery (writing the loop inputs as
 * output parameters), one task, one project's release, and the run's cancellation for the exit
 * handler. The run's facts are workflow parameters that the arguments reference. Job dispatchers run with
 * `--on-sigterm detach`: a pod evicted or drained leaves its job running and exits 3, and the
 * retry attaches to the job again; stopping the run's jobs is the exit handler's business.
 */
export function dispatcherTemplates(
  run: WorkflowRun,
  settings: WorkflowSettings,
): DispatcherTemplates {
  const container = (args: readonly string[]) => dispatcherContainer(settings, args);
  const output = (name: string, path: string, fallback: string) => ({
    name,
    valueFrom: { path, default: fallback },
  });
  return {
    discovery: {
      name: TemplateName.discovery,
      container: container([
        'discovery',
        ...jobArgs(run),
        ...['--output', DispatcherFile.discovery],
        ...['--output-group-items', DispatcherFile.groupItems],
        ...['--output-group-tasks', DispatcherFile.groupTasks],
        ...['--output-release-enabled', DispatcherFile.releaseEnabled],
        ...['--output-release-projects', DispatcherFile.releaseProjects],
      ]),
      // The defaults keep a failed discovery (which writes no file) a plain failure: a missing
      // output file would otherwise turn the node into an Argo error, which is retried.
      outputs: {
        parameters: [
          output(DiscoveryParameter.groupItems, DispatcherFile.groupItems, '[]'),
          output(DiscoveryParameter.groupTasks, DispatcherFile.groupTasks, '[]'),
          output(DiscoveryParameter.releaseEnabled, DispatcherFile.releaseEnabled, 'false'),
          output(DiscoveryParameter.releaseProjects, DispatcherFile.releaseProjects, '[]'),
        ],
      },
      retryStrategy: DISPATCHER_RETRY_STRATEGY,
    },
    task: {
      name: TemplateName.task,
      inputs: { parameters: [{ name: 'phase' }, { name: 'project' }] },
      container: container([
        'task',
        ...jobArgs(run),
        ...['--phase', '{{inputs.parameters.phase}}'],
        ...['--project', '{{inputs.parameters.project}}'],
        // The project's folder and steps come from the run's discovery output, not from Argo.
        '--from-discovery',
        ...['--output', DispatcherFile.task],
      ]),
      retryStrategy: DISPATCHER_RETRY_STRATEGY,
    },
    release: {
      name: TemplateName.release,
      inputs: { parameters: [{ name: 'project' }] },
      container: container([
        'release',
        ...jobArgs(run),
        ...['--projects', '{{inputs.parameters.project}}'],
        ...['--output', DispatcherFile.release],
      ]),
      retryStrategy: DISPATCHER_RETRY_STRATEGY,
    },
    cancelRun: {
      name: TemplateName.cancelRun,
      container: container([
        'cancel-run',
        ...['--run-id', runParameterRef(RunParameter.runId)],
        ...['--reason', 'workflow {{workflow.status}}'],
      ]),
      retryStrategy: DISPATCHER_RETRY_STRATEGY,
    },
  };
}

/** The flags every job dispatcher takes: the run and its source, and how SIGTERM is handled. */
function jobArgs(run: WorkflowRun): string[] {
  return [
    ...['--run-id', runParameterRef(RunParameter.runId)],
    ...['--repository', runParameterRef(RunParameter.repository)],
    ...['--clone-url', runParameterRef(RunParameter.cloneUrl)],
    ...['--commit', runParameterRef(RunParameter.commit)],
    ...(run.branch === undefined ? [] : ['--branch', runParameterRef(RunParameter.branch)]),
    ...(run.tag === undefined ? [] : ['--tag', runParameterRef(RunParameter.tag)]),
    ...['--on-sigterm', 'detach'],
  ];
}

function dispatcherContainer(
  settings: WorkflowSettings,
  args: readonly string[],
): WorkflowContainer {
  return {
    image: settings.dispatcherImage,
    imagePullPolicy: settings.imagePullPolicy,
    command: [DISPATCHER_COMMAND],
    args,
    // Dispatchers always talk to the shared job plane; the ConfigMap says where it is.
    env: [{ name: 'FORGE_MODE', value: 'aws' }],
    envFrom: [
      { configMapRef: { name: settings.dispatcherConfigMap } },
      ...(settings.dispatcherSecret === undefined
        ? []
        : [{ secretRef: { name: settings.dispatcherSecret } }]),
    ],
    resources: {
      requests: { ...DISPATCHER_RESOURCES.requests },
      limits: { ...DISPATCHER_RESOURCES.limits },
    },
  };
}
