import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import { S3BlobStore } from '../../adapters/aws/s3-blob-store.js';
import { SecretsManagerSecretStore } from '../../adapters/aws/secrets-manager-secret-store.js';
import { SqsStatusEventSink } from '../../adapters/aws/sqs-status-event-sink.js';
import { openPostgres } from '../../adapters/postgres/open-postgres.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import type { JobStreamEvent, StreamBatchResponse } from '../../core/contracts/job-stream.js';
import { workflowUiUrl } from '../../core/workflow/workflow-names.js';
import { loadReconcileConfig } from './reconcile-environment.js';
import { StreamReconciler, type ReconcilerLogger } from './stream-reconciler.js';

const powertoolsLogger = new Logger({ serviceName: 'forge-reconcile' });
const logger: ReconcilerLogger = {
  debug: (message, fields = {}) => powertoolsLogger.debug(message, fields),
  warn: (message, fields = {}) => powertoolsLogger.warn(message, fields),
};
const config = loadReconcileConfig();
let reconciler: Promise<StreamReconciler> | undefined;

/** Connects once per container, on the first batch; a failed start is tried again next time. */
function reconcilerOfContainer(): Promise<StreamReconciler> {
  reconciler ??= connect().catch((error: unknown) => {
    reconciler = undefined;
    throw error;
  });
  return reconciler;
}

async function connect(): Promise<StreamReconciler> {
  const secrets =
    config.postgres.kind === 'secret'
      ? new SecretsManagerSecretStore({ client: new SecretsManagerClient(sdkClientConfig()) })
      : undefined;
  const database = await openPostgres(config.postgres, { secrets });
  const argo = config.argo;
  const runs = new PostgresRunRepository({
    sql: database.sql,
    statusTargetUrl: ({ workflowName }) =>
      argo === undefined || workflowName === null
        ? null
        : workflowUiUrl(argo.uiUrl, argo.namespace, workflowName),
  });
  const results = new S3BlobStore({
    client: new S3Client({ ...sdkClientConfig(), forcePathStyle: config.s3ForcePathStyle }),
    bucket: config.resultsBucket,
  });
  const sink = new SqsStatusEventSink({
    client: new SQSClient(sdkClientConfig()),
    queueUrl: config.statusQueueUrl,
  });
  return new StreamReconciler({ runs, results, sink, logger });
}

/**
 * The stream reconciler Lambda: DynamoDB Streams batches of the jobs table in, the runs'
 * progress in Postgres and status events on the fan-out's queue out, a partial batch response
 * (failed records by sequence number) back. Configuration is read at cold start
 * (`loadReconcileConfig`); the event source mapping needs `ReportBatchItemFailures` and
 * NEW_AND_OLD_IMAGES.
 */
export const handler = middy(
  async (event: DynamoDBStreamEvent, context: Context): Promise<StreamBatchResponse> =>
    (await reconcilerOfContainer()).handleLambdaEvent(event as unknown as JobStreamEvent, context),
).use(injectLambdaContext(powertoolsLogger));
