import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type {
  SubmittedWorkflow,
  WorkflowEngine,
  WorkflowRun,
} from '../../core/ports/workflow-engine.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import {
  WorkflowEngineRejectedError,
  WorkflowEngineUnavailableError,
  WorkflowRunInvalidError,
} from '../../core/workflow/workflow-errors.js';
import { WorkflowLabel, workflowName } from '../../core/workflow/workflow-names.js';
import type { WorkflowSettings } from '../../core/workflow/workflow-settings.js';
import { EksClusterLogin } from './eks-cluster-login.js';
import { loadKubeConfig, type KubeConfigSource } from './kube-config.js';
import { kubernetesStatus, workflowEngineError } from './kubernetes-errors.js';

/** Where Argo's `Workflow` custom resources live in the Kubernetes API. */
const WORKFLOWS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflows' } as const;

/** The calls the engine makes on the custom objects API. */
export type WorkflowObjectsApi = Pick<
  CustomObjectsApi,
  'createNamespacedCustomObject' | 'getNamespacedCustomObject' | 'patchNamespacedCustomObject'
>;

/** Options of {@link ArgoWorkflowEngine}. */
export interface ArgoWorkflowEngineOptions {
  readonly api: WorkflowObjectsApi;
  readonly settings: WorkflowSettings;
}

/**
 * The production workflow engine: each run becomes one Argo Workflow (rendered by
 * `renderWorkflow`), created through the Kubernetes API in the configured namespace.
 *
 * - `submit` creates the workflow; since its name derives from the run id, a second submission
 *   meets `409 AlreadyExists` and returns the existing workflow (after checking that it is the
 *   same run's), so submitting is idempotent.
 * - `cancel` stops the workflow as `argo stop` does: a JSON merge patch setting
 *   `spec.shutdown: Stop`. `Stop` rather than `Terminate` (what `argo terminate` sets): both
 *   make the controller schedule nothing more and send SIGTERM to the running dispatcher pods,
 *   but only `Stop` still runs the exit handler, which asks the run's pending and running jobs
 *   to stop (dispatchers leave their jobs running on SIGTERM so that an evicted one can attach
 *   again). A workflow that does not exist (never submitted, or garbage-collected) is a no-op.
 *
 * Failures are the workflow error family: `WorkflowEngineUnavailableError` (retryable: 429,
 * 5xx, network) or `WorkflowEngineRejectedError`.
 */
export class ArgoWorkflowEngine implements WorkflowEngine {
  readonly #api: WorkflowObjectsApi;
  readonly #settings: WorkflowSettings;

  constructor(options: ArgoWorkflowEngineOptions) {
    this.#api = options.api;
    this.#settings = options.settings;
  }

  /**
   * An engine talking to the cluster of a kubeconfig file, of the pod's service account, or,
   * when the source names one, of an EKS cluster logged in to with the process's AWS
   * credentials (see {@link ArgoWorkflowEngine.fromEksCluster}). Reads the configuration files;
   * makes no request.
   */
  static fromKubeConfig(
    source: KubeConfigSource | KubeConfig,
    settings: WorkflowSettings,
  ): ArgoWorkflowEngine {
    if (!('makeApiClient' in source) && source.eksCluster !== undefined) {
      const { name, apiUrl } = source.eksCluster;
      return ArgoWorkflowEngine.fromEksCluster(EksClusterLogin.forCluster(name, apiUrl), settings);
    }
    const config = 'makeApiClient' in source ? source : loadKubeConfig(source);
    return new ArgoWorkflowEngine({ api: config.makeApiClient(CustomObjectsApi), settings });
  }

  /**
   * An engine talking to an EKS cluster without a kubeconfig (the API on Lambda): the first
   * request describes the cluster, and every request carries a fresh enough EKS token. Makes no
   * request itself.
   */
  static fromEksCluster(login: EksClusterLogin, settings: WorkflowSettings): ArgoWorkflowEngine {
    const api: WorkflowObjectsApi = {
      createNamespacedCustomObject: async (...args): Promise<unknown> =>
        (await login.customObjectsApi()).createNamespacedCustomObject(...args),
      getNamespacedCustomObject: async (...args): Promise<unknown> =>
        (await login.customObjectsApi()).getNamespacedCustomObject(...args),
      patchNamespacedCustomObject: async (...args): Promise<unknown> =>
        (await login.customObjectsApi()).patchNamespacedCustomObject(...args),
    };
    return new ArgoWorkflowEngine({ api, settings });
  }

  async submit(run: WorkflowRun): Promise<SubmittedWorkflow> {
    const manifest = renderWorkflow(run, this.#settings);
    const { name, namespace } = manifest.metadata;
    try {
      await this.#api.createNamespacedCustomObject({ ...WORKFLOWS, namespace, body: manifest });
      return { name };
    } catch (error) {
      if (kubernetesStatus(error) !== 409) {
        throw workflowEngineError(error, `could not create workflow ${namespace}/${name}`);
      }
    }
    return this.#existing(name, run.runId);
  }

  async cancel(runId: string): Promise<void> {
    let name: string;
    try {
      name = workflowName(runId);
    } catch (error) {
      // No workflow can carry such a run id, so none was ever submitted.
      if (error instanceof WorkflowRunInvalidError) return;
      throw error;
    }
    const { namespace } = this.#settings;
    try {
      await this.#api.patchNamespacedCustomObject(
        { ...WORKFLOWS, namespace, name, body: { spec: { shutdown: 'Stop' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (kubernetesStatus(error) === 404) return;
      throw workflowEngineError(error, `could not stop workflow ${namespace}/${name}`);
    }
  }

  /** The workflow that took the run's name; it must carry the same run id. */
  async #existing(name: string, runId: string): Promise<SubmittedWorkflow> {
    const { namespace } = this.#settings;
    let existing: unknown;
    try {
      existing = await this.#api.getNamespacedCustomObject({ ...WORKFLOWS, namespace, name });
    } catch (error) {
      if (kubernetesStatus(error) === 404) {
        throw new WorkflowEngineUnavailableError(
          `workflow ${namespace}/${name} existed a moment ago but is gone; submit the run again`,
          { cause: error },
        );
      }
      throw workflowEngineError(error, `could not read the existing workflow ${namespace}/${name}`);
    }
    const labels = (existing as { metadata?: { labels?: Record<string, string> } }).metadata
      ?.labels;
    const owner = labels?.[WorkflowLabel.runId];
    if (owner !== runId) {
      throw new WorkflowEngineRejectedError(
        `workflow ${namespace}/${name} exists but belongs to run ${owner ?? '(unlabelled)'}, not ${runId}`,
        409,
      );
    }
    return { name };
  }
}
