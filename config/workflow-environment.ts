import { z } from 'zod';
import type { Toleration } from '../core/workflow/workflow-manifest.js';
import { ImagePullPolicy, type WorkflowSettings } from '../core/workflow/workflow-settings.js';
import { ConfigurationError, parseEnvironment } from './environment.js';

/** A Kubernetes name (namespace, service account, ConfigMap, Secret): a DNS subdomain. */
const kubernetesName = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/,
    'must be a Kubernetes name: lower-case letters, digits, "-" and "."',
  );

/** `disktype=ssd,pool=dispatchers`: the labels a node must carry. */
const nodeSelector = z.string().transform((text, context): Record<string, string> => {
  const entries = text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '')
    .map((pair) => pair.split('='));
  const bad = entries.find((parts) => parts.length !== 2 || parts[0] === '');
  if (bad !== undefined) {
    context.addIssue({
      code: 'custom',
      message: `"${bad.join('=')}" is not key=value (write key=value pairs separated by commas)`,
    });
    return z.NEVER;
  }
  return Object.fromEntries(
    entries.map(([key = '', value = '']) => [key.trim(), value.trim()] as const),
  );
});

const TolerationSchema = z.strictObject({
  key: z.string().min(1).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().min(0).optional(),
});

/** A JSON array of tolerations, as a pod spec takes them. */
const tolerations = z.string().transform((text, context): Toleration[] => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    context.addIssue({
      code: 'custom',
      message: 'is not JSON (write a JSON array of tolerations)',
    });
    return z.NEVER;
  }
  const parsed = z.array(TolerationSchema).safeParse(json);
  if (!parsed.success) {
    context.addIssue({
      code: 'custom',
      message: `is not a list of tolerations: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`,
    });
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * The `FORGE_` variables of the workflow engine: which engine runs pipeline runs, and for Argo,
 * the cluster side of a run's workflow. docs/configuration.md documents each one.
 */
export const WorkflowEnvironmentSchema = z.object({
  /** `embedded` runs pipelines in-process; `argo` submits one Argo Workflow per run. */
  FORGE_ENGINE: z.enum(['embedded', 'argo']).default('embedded'),
  FORGE_ARGO_NAMESPACE: kubernetesName.default('forge'),
  /** Base URL of the Argo UI, for links to a run's workflow. */
  FORGE_ARGO_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The image holding `forge-dispatcher`; required to render a workflow. */
  FORGE_DISPATCHER_IMAGE: z.string().min(1).optional(),
  FORGE_DISPATCHER_IMAGE_PULL_POLICY: z.enum(ImagePullPolicy).default(ImagePullPolicy.ifNotPresent),
  FORGE_DISPATCHER_SERVICE_ACCOUNT: kubernetesName.default('forge-dispatcher'),
  FORGE_DISPATCHER_CONFIG_MAP: kubernetesName.default('forge-dispatcher-config'),
  FORGE_DISPATCHER_SECRET: kubernetesName.optional(),
  FORGE_DISPATCHER_NODE_SELECTOR: nodeSelector.default({}),
  FORGE_DISPATCHER_TOLERATIONS: tolerations.default([]),
  /** A kubeconfig file; unset, the pod's in-cluster service account is used. */
  FORGE_KUBECONFIG: z.string().min(1).optional(),
  /** The kubeconfig context to use instead of its current one. */
  FORGE_KUBE_CONTEXT: z.string().min(1).optional(),
  /** An EKS cluster to log in to with the AWS credentials (the API on Lambda), not a kubeconfig. */
  FORGE_KUBE_CLUSTER_NAME: z
    .string()
    .max(100)
    .regex(/^[0-9A-Za-z][A-Za-z0-9_-]*$/, 'must be an EKS cluster name')
    .optional(),
  /** With `FORGE_KUBE_CLUSTER_NAME`: the API server to call instead of the one EKS reports. */
  FORGE_KUBE_API_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
});

/** How to reach the Kubernetes API. */
export interface KubernetesConnection {
  /** A kubeconfig file; `undefined` means the in-cluster service account. */
  readonly kubeconfig?: string | undefined;
  /** A context of the kubeconfig to use instead of its current one. */
  readonly context?: string | undefined;
  /** An EKS cluster logged in to with the AWS credentials; `apiUrl` overrides its endpoint. */
  readonly eksCluster?: { readonly name: string; readonly apiUrl?: string | undefined } | undefined;
}

/** The workflow engine's configuration; `argo` is set when a workflow can be rendered. */
export interface WorkflowConfig {
  readonly engine: 'embedded' | 'argo';
  readonly argoUiUrl?: string | undefined;
  /** Set when `FORGE_DISPATCHER_IMAGE` is (always under `FORGE_ENGINE=argo`). */
  readonly argo?:
    { readonly settings: WorkflowSettings; readonly kubernetes: KubernetesConnection } | undefined;
}

/**
 * Reads the workflow engine's variables once. Throws a `ConfigurationError` naming the variable
 * for a bad value, for `FORGE_ENGINE=argo` without `FORGE_DISPATCHER_IMAGE`, and for Kubernetes
 * logins that cannot be combined (an EKS cluster and a kubeconfig file).
 */
export function loadWorkflowConfig(env: NodeJS.ProcessEnv = process.env): WorkflowConfig {
  const parsed = parseEnvironment(WorkflowEnvironmentSchema, env);
  if (parsed.FORGE_KUBE_CONTEXT !== undefined && parsed.FORGE_KUBECONFIG === undefined) {
    throw new ConfigurationError(
      'FORGE_KUBE_CONTEXT',
      'needs FORGE_KUBECONFIG (a kubeconfig file)',
    );
  }
  const cluster = parsed.FORGE_KUBE_CLUSTER_NAME;
  if (cluster !== undefined && parsed.FORGE_KUBECONFIG !== undefined) {
    throw new ConfigurationError(
      'FORGE_KUBE_CLUSTER_NAME',
      'set it or FORGE_KUBECONFIG, not both (an EKS login or a kubeconfig file)',
    );
  }
  if (parsed.FORGE_KUBE_API_URL !== undefined && cluster === undefined) {
    throw new ConfigurationError('FORGE_KUBE_API_URL', 'needs FORGE_KUBE_CLUSTER_NAME');
  }
  const image = parsed.FORGE_DISPATCHER_IMAGE;
  if (image === undefined && parsed.FORGE_ENGINE === 'argo') {
    throw new ConfigurationError('FORGE_DISPATCHER_IMAGE', 'is required when FORGE_ENGINE=argo');
  }
  return {
    engine: parsed.FORGE_ENGINE,
    argoUiUrl: parsed.FORGE_ARGO_UI_URL,
    argo:
      image === undefined
        ? undefined
        : {
            settings: {
              namespace: parsed.FORGE_ARGO_NAMESPACE,
              dispatcherImage: image,
              imagePullPolicy: parsed.FORGE_DISPATCHER_IMAGE_PULL_POLICY,
              serviceAccountName: parsed.FORGE_DISPATCHER_SERVICE_ACCOUNT,
              dispatcherConfigMap: parsed.FORGE_DISPATCHER_CONFIG_MAP,
              dispatcherSecret: parsed.FORGE_DISPATCHER_SECRET,
              nodeSelector: parsed.FORGE_DISPATCHER_NODE_SELECTOR,
              tolerations: parsed.FORGE_DISPATCHER_TOLERATIONS,
            },
            kubernetes: {
              kubeconfig: parsed.FORGE_KUBECONFIG,
              context: parsed.FORGE_KUBE_CONTEXT,
              eksCluster:
                cluster === undefined
                  ? undefined
                  : { name: cluster, apiUrl: parsed.FORGE_KUBE_API_URL },
            },
          },
  };
}
