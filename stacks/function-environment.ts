import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { QueueName } from '../core/job-plane/queue-settings.js';
import type { DataStack } from './data-stack.js';
import type { StageConfig } from './stage-config.js';

/** Environment variables of one function. */
export type FunctionVariables = Record<string, string>;

/** Seconds the fan-out may wait for GitHub's rate limit; its function's timeout is longer. */
export const GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = 60;

/**
 * The environment of each Lambda function, named as the configuration modules read it
 * (`config/*-environment.ts`, `functions/reconcile/reconcile-environment.ts`):
 *
 * - the API: the job plane (`config/job-plane-environment.ts`), the database secret, the status
 *   event queue, the token issuers and audiences (`config/auth-environment.ts`; internal routes
 *   only for service accounts of the namespace), the Argo engine
 *   (`config/workflow-environment.ts`) with the cluster's name (`FORGE_KUBE_CLUSTER_NAME`), which
 *   selects the EKS login (endpoint and CA from `DescribeCluster`, an EKS token per request)
 *   since a function has no kubeconfig, and `FORGE_KUBE_API_URL` when the stage overrides the
 *   endpoint (docs/deploy.md);
 * - the reconciler: the database secret, the results bucket, the status event queue and the Argo
 *   UI link settings;
 * - the GitHub fan-out: the secret holding its GitHub token, and its rate-limit wait.
 *
 * Lambda allows 4 KB of variables per function; the infrastructure tests measure it.
 */
export function functionEnvironment(
  config: StageConfig,
  data: DataStack,
  statusEvents: IQueue,
): {
  readonly api: FunctionVariables;
  readonly reconcile: FunctionVariables;
  readonly githubStatus: FunctionVariables;
} {
  const queues = data.queues.byName;
  const jobPlane: FunctionVariables = {
    ...Object.fromEntries(
      Object.values(QueueName).flatMap((name) => [
        [`FORGE_QUEUE_URL_${name.toUpperCase()}`, queues[name].queue.queueUrl],
        [
          `FORGE_DEAD_LETTER_QUEUE_URL_${name.toUpperCase()}`,
          queues[name].deadLetterQueue.queueUrl,
        ],
      ]),
    ),
    FORGE_JOBS_TABLE: data.jobsTable.tableName,
    FORGE_JOBS_STREAM_ARN: data.jobsTable.tableStreamArn as string,
    FORGE_RESULTS_BUCKET: data.buckets.results.bucketName,
    FORGE_LOGS_BUCKET: data.buckets.logs.bucketName,
    FORGE_STAGING_BUCKET: data.buckets.staging.bucketName,
  };
  const argoLinks: FunctionVariables = {
    FORGE_ARGO_NAMESPACE: config.cluster.namespace,
    ...(config.argoUiUrl === undefined ? {} : { FORGE_ARGO_UI_URL: config.argoUiUrl }),
  };
  const database = { FORGE_DATABASE_SECRET_ARN: data.secrets.databaseUrl.secretArn };
  const statusQueue = { FORGE_GITHUB_STATUS_QUEUE_URL: statusEvents.queueUrl };
  return {
    api: {
      FORGE_MODE: 'aws',
      ...jobPlane,
      ...database,
      ...statusQueue,
      ...argoLinks,
      FORGE_GITHUB_OIDC_AUDIENCE: config.githubAudience,
      FORGE_SERVICE_OIDC_ISSUER: config.cluster.oidcIssuerUrl,
      FORGE_SERVICE_OIDC_AUDIENCE: config.serviceAudience,
      FORGE_SERVICE_OIDC_SUBJECTS: `system:serviceaccount:${config.cluster.namespace}:*`,
      FORGE_ENGINE: 'argo',
      FORGE_DISPATCHER_IMAGE: config.dispatcherImage,
      FORGE_KUBE_CLUSTER_NAME: config.cluster.name,
      ...(config.cluster.apiUrl === undefined ? {} : { FORGE_KUBE_API_URL: config.cluster.apiUrl }),
    },
    reconcile: {
      ...database,
      FORGE_RESULTS_BUCKET: data.buckets.results.bucketName,
      ...statusQueue,
      ...argoLinks,
    },
    githubStatus: {
      FORGE_GITHUB_TOKEN_SECRET: data.secrets.githubToken.secretArn,
      FORGE_GITHUB_RATE_LIMIT_MAX_WAIT: String(GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS),
    },
  };
}
