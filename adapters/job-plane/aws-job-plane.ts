import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import { CachingSecretStore } from '../../core/job-plane/caching-secret-store.js';
import { QueueName } from '../../core/job-plane/queue-settings.js';
import type { JobQueue } from '../../core/ports/job-queue.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { sdkClientConfig } from '../aws/aws-client-config.js';
import { awsOperationError } from '../aws/aws-operation.js';
import { DynamoJobStore } from '../aws/dynamo-job-store.js';
import { DynamoStreamPoller } from '../aws/dynamo-stream-poller.js';
import { S3BlobStore } from '../aws/s3-blob-store.js';
import { SecretsManagerSecretStore } from '../aws/secrets-manager-secret-store.js';
import { SqsJobQueue } from '../aws/sqs-job-queue.js';

/**
 * The job plane on AWS, or on the local emulators: the clients take region, credentials and
 * endpoints from the SDK's own variables (`AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`, ...): SQS queues, the DynamoDB jobs table and its stream, S3 buckets and Secrets Manager.
 * Looks up the table's stream when the configuration does not name it.
 */
export async function createAwsJobPlane(config: AwsJobPlaneConfig): Promise<JobPlane> {
  const base = sdkClientConfig();
  // Queue URLs of emulators name hosts that do not resolve; the endpoint is the SDK's own.
  const sqs = new SQSClient({ ...base, useQueueUrlAsEndpoint: false });
  const dynamodb = new DynamoDBClient(base);
  const streams = new DynamoDBStreamsClient(base);
  const s3 = new S3Client({ ...base, forcePathStyle: config.s3ForcePathStyle });
  const secretsManager = new SecretsManagerClient(base);
  const clients = [sqs, dynamodb, streams, s3, secretsManager];
  try {
    const streamArn = config.jobsStreamArn ?? (await latestStreamArn(dynamodb, config.jobsTable));
    const queue = (name: string, queueUrl: string): JobQueue =>
      new SqsJobQueue({ client: sqs, queueUrl, name });
    const queues = Object.fromEntries(
      Object.values(QueueName).map((name) => [name, queue(name, config.queueUrls[name])]),
    ) as Record<QueueName, JobQueue>;
    const deadLetters = Object.fromEntries(
      Object.entries(config.deadLetterQueueUrls).map(([name, url]) => [
        name,
        queue(`${name}-dlq`, url),
      ]),
    ) as Partial<Record<QueueName, JobQueue>>;
    const blob = (bucket: string) => new S3BlobStore({ client: s3, bucket });
    return {
      queues,
      deadLetters,
      jobs: new DynamoJobStore({ client: dynamodb, tableName: config.jobsTable }),
      changes: new DynamoStreamPoller({ client: streams, streamArn }),
      blobs: {
        results: blob(config.buckets.results),
        logs: blob(config.buckets.logs),
        staging: blob(config.buckets.staging),
      },
      secrets: new CachingSecretStore({
        store: new SecretsManagerSecretStore({ client: secretsManager }),
        ttlMs: config.secretsCacheMs,
      }),
      close: () => {
        for (const client of clients.splice(0)) client.destroy();
        return Promise.resolve();
      },
    };
  } catch (error) {
    for (const client of clients) client.destroy();
    throw error;
  }
}

async function latestStreamArn(dynamodb: DynamoDBClient, table: string): Promise<string> {
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${table} has no stream`);
    return Table.LatestStreamArn;
  } catch (error) {
    throw awsOperationError('dynamodb:DescribeTable', table, error);
  }
}
