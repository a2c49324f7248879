import { QueueName } from '../../core/job-plane/queue-settings.js';
import { KubernetesName } from '../../stacks/stack-outputs.js';
import type { WorkerPoolName } from '../../workers/worker-pool.js';

/** CPU and memory of a pool's pods, as Kubernetes quantities. */
export interface PodResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** How one worker pool runs on the cluster (spec "Worker Pool Configuration"). */
export interface WorkerPoolSpec {
  readonly pool: WorkerPoolName;
  /** Name of the Deployment, its ConfigMap prefix and its ScaledObject. */
  readonly name: string;
  readonly serviceAccount: string;
  /** The queue the pool takes jobs from, and scales on. */
  readonly queue: QueueName;
  /** Pods kept running when the queue is empty: the spec's replicas, KEDA's minimum. */
  readonly replicas: number;
  readonly resources: PodResources;
  /** The git repository cache (bare clones and worktrees). */
  readonly cache: {
    readonly path: string;
    /** `FORGE_REPOSITORY_CACHE_MAX_SIZE`: above it, least recently used repositories go. */
    readonly maxSize: string;
    /** The volume's limit: the cache may pass its size while a job's worktree is in use. */
    readonly volumeSizeLimit: string;
  };
  /** `FORGE_SHUTDOWN_GRACE`: seconds running jobs may finish after SIGTERM. */
  readonly shutdownGraceSeconds: number;
}

/** Autoscaling of every pool on its queue's depth (spec "Worker Autoscaling"). */
export const AUTOSCALING = {
  /** Messages (visible and in flight) per pod KEDA aims at. */
  queueLengthPerPod: 10,
  maxReplicas: 50,
  scaleUp: { pods: 5, periodSeconds: 60 },
  scaleDownStabilizationSeconds: 300,
  pollingIntervalSeconds: 15,
} as const;

/** The port of `/metrics`, `/healthz` and `/readyz` (`FORGE_HEALTH_PORT`). */
export const HEALTH_PORT = 9464;

/**
 * A worker's longest receive (`FORGE_WORKER_RECEIVE_WAIT`, 20 s): after SIGTERM the worker waits
 * for it to end before the grace period for running jobs starts to matter.
 */
export const RECEIVE_WAIT_SECONDS = 20;

/** The two pools: discovery (5 pods, 500m/2Gi to 2/4Gi) and tasks (20 pods, 1/4Gi to 4/8Gi). */
export const WORKER_POOLS: Readonly<Record<WorkerPoolName, WorkerPoolSpec>> = {
  discovery: {
    pool: 'discovery',
    name: KubernetesName.discoveryWorkerServiceAccount,
    serviceAccount: KubernetesName.discoveryWorkerServiceAccount,
    queue: QueueName.discovery,
    replicas: 5,
    resources: {
      requests: { cpu: '500m', memory: '2Gi' },
      limits: { cpu: '2000m', memory: '4Gi' },
    },
    cache: { path: '/cache/repos', maxSize: '100Gi', volumeSizeLimit: '120Gi' },
    shutdownGraceSeconds: 30,
  },
  task: {
    pool: 'task',
    name: KubernetesName.taskWorkerServiceAccount,
    serviceAccount: KubernetesName.taskWorkerServiceAccount,
    queue: QueueName.tasks,
    replicas: 20,
    resources: {
      requests: { cpu: '1000m', memory: '4Gi' },
      limits: { cpu: '4000m', memory: '8Gi' },
    },
    cache: { path: '/cache/repos', maxSize: '100Gi', volumeSizeLimit: '120Gi' },
    shutdownGraceSeconds: 120,
  },
};
