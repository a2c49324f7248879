import { ConfigurationError, parseEnvironment } from '../../config/environment.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { AwsJobPlaneEnvironmentSchema } from '../../config/job-plane-environment.js';
import { loadPostgresConfig, type PostgresConfig } from '../../config/postgres-environment.js';
import { WorkflowEnvironmentSchema } from '../../config/workflow-environment.js';

/** The reconciler function's settings, defaults applied. */
export interface ReconcileConfig {
  /** A database the function reaches: a URL or a secret, never an embedded server. */
  readonly postgres: Exclude<PostgresConfig, { readonly kind: 'embedded' }>;
  /** The results bucket, where discovery outputs are. */
  readonly resultsBucket: string;
  readonly s3ForcePathStyle: boolean;
  /** The GitHub fan-out's queue, where status events go. */
  readonly statusQueueUrl: string;
  /** Where commit statuses link: the Argo UI, when configured. */
  readonly argo: { readonly uiUrl: string; readonly namespace: string } | undefined;
}

const ReconcileJobPlaneSchema = AwsJobPlaneEnvironmentSchema.pick({
  FORGE_RESULTS_BUCKET: true,
  FORGE_S3_FORCE_PATH_STYLE: true,
});

const ReconcileWorkflowSchema = WorkflowEnvironmentSchema.pick({
  FORGE_ARGO_UI_URL: true,
  FORGE_ARGO_NAMESPACE: true,
});

/**
 * Reads the reconciler function's variables once, at cold start: the database
 * (`DATABASE_URL` or `FORGE_DATABASE_SECRET_ARN`, one of them required), `FORGE_RESULTS_BUCKET`,
 * `FORGE_GITHUB_STATUS_QUEUE_URL` (required) and the Argo UI link settings. A missing or bad
 * value is a `ConfigurationError` naming it.
 */
export function loadReconcileConfig(env: NodeJS.ProcessEnv = process.env): ReconcileConfig {
  const postgres = loadPostgresConfig(env);
  if (postgres.kind === 'embedded') {
    throw new ConfigurationError(
      'DATABASE_URL',
      'the reconciler function needs DATABASE_URL or FORGE_DATABASE_SECRET_ARN',
    );
  }
  const jobPlane = parseEnvironment(ReconcileJobPlaneSchema, env);
  const statusQueueUrl = loadGitHubConfig(env).statusQueueUrl;
  if (statusQueueUrl === undefined) {
    throw new ConfigurationError(
      'FORGE_GITHUB_STATUS_QUEUE_URL',
      'the reconciler function needs the status event queue',
    );
  }
  const workflow = parseEnvironment(ReconcileWorkflowSchema, env);
  return {
    postgres,
    resultsBucket: jobPlane.FORGE_RESULTS_BUCKET,
    s3ForcePathStyle: jobPlane.FORGE_S3_FORCE_PATH_STYLE,
    statusQueueUrl,
    argo:
      workflow.FORGE_ARGO_UI_URL === undefined
        ? undefined
        : { uiUrl: workflow.FORGE_ARGO_UI_URL, namespace: workflow.FORGE_ARGO_NAMESPACE },
  };
}
