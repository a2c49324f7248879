import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { StackOutput } from '../../stacks/stack-outputs.js';
import { jobPlaneVariables } from './job-plane-variables.js';
import type { ScaledObject } from './keda-objects.js';
import type { StackOutputs } from './stack-outputs.js';
import {
  AUTOSCALING,
  HEALTH_PORT,
  RECEIVE_WAIT_SECONDS,
  type WorkerPoolSpec,
} from './worker-pools.js';

/** The name of the TriggerAuthentication every pool's ScaledObject uses. */
export const QUEUE_SCALER_AUTHENTICATION = 'forge-queue-scaler';

/** The non-root user of the images (`deploy/docker/Dockerfile`). */
export const IMAGE_USER_ID = 1000;

/** What a pool's manifests are rendered from besides its spec. */
export interface WorkerPoolContext {
  readonly outputs: StackOutputs;
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent';
  /** BuildKit runners of the task pool (`FORGE_BUILDKIT_HOSTS`); none runs `shell` steps only. */
  readonly buildkitHosts: readonly string[];
}

/**
 * A worker pool's ConfigMap (the job plane and worker variables the process reads), its
 * Deployment (`forge-worker <pool>` under the pool's service account, probes on `/healthz` and
 * `/readyz`, Prometheus scraping `/metrics`, the repository cache volume, a termination grace
 * period longer than the worker's own shutdown) and its KEDA ScaledObject (queue depth, at
 * least the spec's replicas, at most 50, up by at most 5 pods a minute, down after 5 minutes).
 */
export function workerPoolManifests(
  spec: WorkerPoolSpec,
  context: WorkerPoolContext,
): [V1ConfigMap, V1Deployment, ScaledObject] {
  const labels = { 'app.kubernetes.io/name': spec.name, 'app.kubernetes.io/part-of': 'forge' };
  const metadata = { name: spec.name, namespace: context.namespace, labels };
  const configMapName = `${spec.name}-config`;
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...metadata, name: configMapName },
    data: { ...jobPlaneVariables(context.outputs), ...workerVariables(spec, context) },
  };
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': spec.name } },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: '10%', maxSurge: '25%' },
      },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(HEALTH_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          serviceAccountName: spec.serviceAccount,
          // IRSA injects its own token; the workers never call the Kubernetes API.
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: spec.shutdownGraceSeconds + RECEIVE_WAIT_SECONDS + 10,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_USER_ID,
            runAsGroup: IMAGE_USER_ID,
            fsGroup: IMAGE_USER_ID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'worker',
              image: context.image,
              imagePullPolicy: context.imagePullPolicy,
              args: [spec.pool],
              envFrom: [{ configMapRef: { name: configMapName } }],
              ports: [{ name: 'metrics', containerPort: HEALTH_PORT, protocol: 'TCP' }],
              resources: {
                requests: { ...spec.resources.requests },
                limits: { ...spec.resources.limits },
              },
              startupProbe: {
                httpGet: { path: '/healthz', port: 'metrics' },
                periodSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'metrics' },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'metrics' },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 2,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'repository-cache', mountPath: spec.cache.path },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'home', mountPath: '/home/node' },
              ],
            },
          ],
          volumes: [
            { name: 'repository-cache', emptyDir: { sizeLimit: spec.cache.volumeSizeLimit } },
            { name: 'tmp', emptyDir: {} },
            { name: 'home', emptyDir: {} },
          ],
        },
      },
    },
  };
  const scaledObject: ScaledObject = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata,
    spec: {
      scaleTargetRef: { name: spec.name },
      minReplicaCount: spec.replicas,
      maxReplicaCount: AUTOSCALING.maxReplicas,
      pollingInterval: AUTOSCALING.pollingIntervalSeconds,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: {
              policies: [
                {
                  type: 'Pods',
                  value: AUTOSCALING.scaleUp.pods,
                  periodSeconds: AUTOSCALING.scaleUp.periodSeconds,
                },
              ],
            },
            scaleDown: { stabilizationWindowSeconds: AUTOSCALING.scaleDownStabilizationSeconds },
          },
        },
      },
      triggers: [
        {
          type: 'aws-sqs-queue',
          metadata: {
            queueURL: context.outputs[queueUrlOutput(spec)],
            queueLength: String(AUTOSCALING.queueLengthPerPod),
            awsRegion: context.outputs[StackOutput.region],
          },
          authenticationRef: { name: QUEUE_SCALER_AUTHENTICATION },
        },
      ],
    },
  };
  return [configMap, deployment, scaledObject];
}

/** The worker process's own variables (`config/worker-environment.ts`, `forge-environment.ts`). */
function workerVariables(spec: WorkerPoolSpec, context: WorkerPoolContext): Record<string, string> {
  const base = {
    FORGE_HEALTH_HOST: '0.0.0.0',
    FORGE_HEALTH_PORT: String(HEALTH_PORT),
    FORGE_SHUTDOWN_GRACE: String(spec.shutdownGraceSeconds),
    FORGE_WORKER_RECEIVE_WAIT: String(RECEIVE_WAIT_SECONDS),
    FORGE_REPOSITORY_CACHE_DIR: spec.cache.path,
    FORGE_REPOSITORY_CACHE_MAX_SIZE: spec.cache.maxSize,
  };
  if (spec.pool !== 'task' || context.buildkitHosts.length === 0) return base;
  const { outputs } = context;
  return {
    ...base,
    FORGE_BUILDKIT_HOSTS: context.buildkitHosts.join(','),
    FORGE_BUILDKIT_TLS_CA_SECRET: outputs[StackOutput.buildkitTlsCaSecretArn],
    FORGE_BUILDKIT_TLS_CERT_SECRET: outputs[StackOutput.buildkitTlsCertSecretArn],
    FORGE_BUILDKIT_TLS_KEY_SECRET: outputs[StackOutput.buildkitTlsKeySecretArn],
  };
}

function queueUrlOutput(spec: WorkerPoolSpec) {
  switch (spec.queue) {
    case 'discovery':
      return StackOutput.discoveryQueueUrl;
    case 'tasks':
      return StackOutput.tasksQueueUrl;
    case 'artifacts':
      return StackOutput.artifactsQueueUrl;
    case 'releases':
      return StackOutput.releasesQueueUrl;
  }
}
