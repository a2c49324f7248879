import type { Toleration } from './workflow-manifest.js';

/** When the kubelet pulls the dispatcher image. */
export const ImagePullPolicy = {
  always: 'Always',
  ifNotPresent: 'IfNotPresent',
  never: 'Never',
} as const;
/** One of {@link ImagePullPolicy}. */
export type ImagePullPolicy = (typeof ImagePullPolicy)[keyof typeof ImagePullPolicy];

/**
 * What a run's workflow needs from the cluster it runs in: where it goes, which image its
 * dispatchers run, under which service account, with which configuration, and on which nodes.
 * It comes from configuration (`config/workflow-environment.ts`); the run itself says the rest.
 */
export interface WorkflowSettings {
  /** The namespace the workflow is created in. */
  readonly namespace: string;
  /** The image holding `forge-dispatcher`. */
  readonly dispatcherImage: string;
  readonly imagePullPolicy: ImagePullPolicy;
  /** The service account of the dispatcher pods (and its cloud role, e.g. through IRSA). */
  readonly serviceAccountName: string;
  /**
   * The ConfigMap whose keys become the dispatchers' environment: the `FORGE_` job plane
   * variables and the SDK's own (`AWS_REGION`, ...).
   */
  readonly dispatcherConfigMap: string;
  /** A Secret whose keys also become the dispatchers' environment, when one is needed. */
  readonly dispatcherSecret?: string | undefined;
  /** Labels a node must carry to run the dispatcher pods. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Taints the dispatcher pods tolerate. */
  readonly tolerations: readonly Toleration[];
}
