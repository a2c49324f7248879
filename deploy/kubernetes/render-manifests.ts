import { dumpYaml } from '@kubernetes/client-node';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { StackOutput } from '../../stacks/stack-outputs.js';
import type { ScaledObject } from './keda-objects.js';
import { platformManifests, type PlatformManifest } from './platform-manifests.js';
import type { StackOutputs } from './stack-outputs.js';
import { workerPoolManifests } from './worker-pool-manifests.js';
import { WORKER_POOLS } from './worker-pools.js';

/** Any object of the rendered Kubernetes side. */
export type ForgeManifest = PlatformManifest | V1Deployment | V1ConfigMap | ScaledObject;

/** The choices of the Kubernetes side that the stack outputs do not make. */
export interface ManifestOptions {
  /** The worker image (`deploy/docker/Dockerfile`, target `worker`). */
  readonly workerImage: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent';
  /** BuildKit runner addresses for `earthly` steps; none: the task pool runs `shell` steps only. */
  readonly buildkitHosts?: readonly string[];
}

/**
 * Renders the Kubernetes side of a deployed stage from its stack outputs: the platform objects
 * (namespace, service accounts with their IAM roles, RBAC, the dispatchers' ConfigMap, KEDA
 * authentication), then each worker pool (ConfigMap, Deployment, ScaledObject), in the order
 * `kubectl apply` needs them. Pure: the same outputs and options give the same objects.
 */
export function renderManifests(outputs: StackOutputs, options: ManifestOptions): ForgeManifest[] {
  const context = {
    outputs,
    namespace: outputs[StackOutput.namespace],
    image: options.workerImage,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    buildkitHosts: options.buildkitHosts ?? [],
  };
  return [
    ...platformManifests(outputs),
    ...workerPoolManifests(WORKER_POOLS.discovery, context),
    ...workerPoolManifests(WORKER_POOLS.task, context),
  ];
}

/** The manifests as one multi-document YAML stream for `kubectl apply -f -`. */
export function manifestsToYaml(manifests: readonly ForgeManifest[]): string {
  return manifests.map((manifest) => `---\n${dumpYaml(manifest)}`).join('');
}
