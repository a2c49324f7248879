import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { JoseAuthenticator } from '../../adapters/auth/jose-authenticator.js';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import { SecretsManagerSecretStore } from '../../adapters/aws/secrets-manager-secret-store.js';
import { SqsStatusEventSink } from '../../adapters/aws/sqs-status-event-sink.js';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { ArgoWorkflowEngine } from '../../adapters/kubernetes/argo-workflow-engine.js';
import { openPostgres } from '../../adapters/postgres/open-postgres.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import { loadAuthConfig } from '../../config/auth-environment.js';
import { ConfigurationError } from '../../config/environment.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import { loadPostgresConfig } from '../../config/postgres-environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { workflowUiUrl } from '../../core/workflow/workflow-names.js';
import type { ApiDependencies } from './api-dependencies.js';
import { createApiHandler, type ApiHandler } from './create-api-handler.js';
import { fieldsLogger } from '../fields-logger.js';

const logger = new Logger({ serviceName: 'forge-api' });
const metrics = new Metrics({ namespace: 'CatalystForge', serviceName: 'forge-api' });

let handlerOfContainer: Promise<ApiHandler> | undefined;

/**
 * Connects once per container, on the first request: Postgres (URL from Secrets Manager),
 * the job plane (jobs table, logs bucket), the Argo engine, the token issuers and the status
 * event queue. A failed start is tried again on the next request.
 */
async function connect(): Promise<ApiHandler> {
  const workflow = loadWorkflowConfig();
  const argo = workflow.argo;
  if (workflow.engine !== 'argo' || argo === undefined) {
    throw new ConfigurationError('FORGE_ENGINE', 'must be argo for the API on Lambda');
  }
  const github = loadGitHubConfig();
  if (github.statusQueueUrl === undefined) {
    throw new ConfigurationError('FORGE_GITHUB_STATUS_QUEUE_URL', 'is required on Lambda');
  }
  const secrets = new SecretsManagerSecretStore({
    client: new SecretsManagerClient(sdkClientConfig()),
  });
  const database = await openPostgres(loadPostgresConfig(), { secrets });
  const plane = await createAwsJobPlane(loadAwsJobPlaneConfig());
  const uiUrl = workflow.argoUiUrl;
  const deps: ApiDependencies = {
    runs: new PostgresRunRepository({
      sql: database.sql,
      statusTargetUrl: ({ workflowName }) =>
        uiUrl === undefined || workflowName === null
          ? null
          : workflowUiUrl(uiUrl, argo.settings.namespace, workflowName),
    }),
    engine: ArgoWorkflowEngine.fromKubeConfig(argo.kubernetes, argo.settings),
    jobs: plane.jobs,
    logs: plane.blobs.logs,
    authenticator: JoseAuthenticator.fromConfig(loadAuthConfig()),
    statusEvents: new SqsStatusEventSink({
      client: new SQSClient(sdkClientConfig()),
      queueUrl: github.statusQueueUrl,
    }),
    logger: fieldsLogger(logger),
    ready: async () => {
      await database.sql`select 1`;
    },
  };
  return createApiHandler(deps, { logger, metrics });
}

/**
 * The API Lambda (API Gateway HTTP API, payload 2.0): every route of DESIGN.md section 6.
 * Configuration is read on the first request; see docs/configuration.md.
 */
export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  handlerOfContainer ??= connect().catch((error: unknown) => {
    handlerOfContainer = undefined;
    throw error;
  });
  const api = await handlerOfContainer;
  return api(event, context);
}
