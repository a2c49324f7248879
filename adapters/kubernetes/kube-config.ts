import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../../core/errors.js';
import { WorkflowEngineRejectedError } from '../../core/workflow/workflow-errors.js';

/** Where the Kubernetes API and its credentials come from. */
export interface KubeConfigSource {
  /** A kubeconfig file; without one, the pod's in-cluster service account. */
  readonly kubeconfig?: string | undefined;
  /** A context of the kubeconfig file to use instead of its `current-context`. */
  readonly context?: string | undefined;
  /**
   * An EKS cluster to log in to with the process's AWS credentials instead of a kubeconfig
   * (`ArgoWorkflowEngine.fromEksCluster`); `apiUrl` replaces the endpoint EKS reports.
   */
  readonly eksCluster?: { readonly name: string; readonly apiUrl?: string | undefined } | undefined;
}

/**
 * Loads the client configuration: from a kubeconfig file (its current context, or `context`),
 * or, without a file, from the service account Kubernetes mounts into the pod
 * (`KUBERNETES_SERVICE_HOST`, the token and CA under `/var/run/secrets/kubernetes.io`). Throws
 * {@link WorkflowEngineRejectedError} when the file cannot be read or names no such context.
 */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const config = new KubeConfig();
  try {
    if (source.kubeconfig === undefined) {
      config.loadFromCluster();
    } else {
      config.loadFromFile(source.kubeconfig);
      if (source.context !== undefined) config.setCurrentContext(source.context);
    }
  } catch (error) {
    const from = source.kubeconfig ?? 'the in-cluster service account';
    throw new WorkflowEngineRejectedError(
      `could not load the Kubernetes configuration from ${from}: ${errorMessage(error)}`,
      undefined,
      { cause: error },
    );
  }
  if (config.getCurrentCluster() === null) {
    throw new WorkflowEngineRejectedError(
      `the Kubernetes configuration from ${source.kubeconfig ?? 'the in-cluster service account'} names no cluster` +
        (source.context === undefined ? '' : ` for context ${source.context}`),
      undefined,
    );
  }
  return config;
}
