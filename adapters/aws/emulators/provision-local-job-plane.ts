import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QUEUE_SETTINGS, QueueName } from '../../../core/job-plane/queue-settings.js';
import { sdkClientConfig, type AwsClientConfig } from '../aws-client-config.js';
import {
  createBucket,
  createJobQueue,
  createJobsTable,
  type ProvisionedQueue,
} from '../job-plane-resources.js';
import type { LocalAwsEndpoints } from './local-aws.js';

/** What {@link provisionLocalJobPlane} created. */
export interface LocalJobPlane {
  readonly queues: Readonly<Record<QueueName, ProvisionedQueue>>;
  readonly jobsTable: string;
  readonly jobsStreamArn: string;
  readonly buckets: { readonly results: string; readonly logs: string; readonly staging: string };
  /** The `FORGE_` variables that point this product's adapters at these resources. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Creates the job plane on the local emulators, every name prefixed with `prefix`: the four
 * job queues with their dead-letter queues, the jobs table with its index and stream, and the
 * results, logs and staging buckets. The same layout the SST stacks deploy to AWS; tests may
 * shorten the visibility timeout to see redeliveries quickly.
 */
export async function provisionLocalJobPlane(
  endpoints: LocalAwsEndpoints,
  prefix: string,
  overrides: { readonly visibilityTimeoutSeconds?: number } = {},
): Promise<LocalJobPlane> {
  const config = (endpoint: string): AwsClientConfig => ({
    region: endpoints.region,
    endpoint,
    credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
  });
  const sqs = new SQSClient(sdkClientConfig(config(endpoints.sqs)));
  const dynamodb = new DynamoDBClient(sdkClientConfig(config(endpoints.dynamodb)));
  const s3 = new S3Client({ ...sdkClientConfig(config(endpoints.s3)), forcePathStyle: true });
  try {
    const queueEntries = await Promise.all(
      Object.values(QueueName).map(
        async (name) =>
          [
            name,
            await createJobQueue(sqs, `${prefix}-${name}`, {
              ...QUEUE_SETTINGS[name],
              ...overrides,
            }),
          ] as const,
      ),
    );
    const queues = Object.fromEntries(queueEntries) as Record<QueueName, ProvisionedQueue>;
    const jobsTable = `${prefix}-pipeline-jobs`;
    const jobsStreamArn = await createJobsTable(dynamodb, jobsTable);
    const buckets = {
      results: `${prefix}-results`,
      logs: `${prefix}-logs`,
      staging: `${prefix}-staging`,
    };
    await Promise.all(Object.values(buckets).map((bucket) => createBucket(s3, bucket)));
    const environment: Record<string, string> = {
      FORGE_MODE: 'aws',
      FORGE_JOBS_TABLE: jobsTable,
      FORGE_JOBS_STREAM_ARN: jobsStreamArn,
      FORGE_RESULTS_BUCKET: buckets.results,
      FORGE_LOGS_BUCKET: buckets.logs,
      FORGE_STAGING_BUCKET: buckets.staging,
      FORGE_S3_FORCE_PATH_STYLE: 'true',
    };
    for (const [name, queue] of queueEntries) {
      environment[`FORGE_QUEUE_URL_${name.toUpperCase()}`] = queue.url;
      environment[`FORGE_DEAD_LETTER_QUEUE_URL_${name.toUpperCase()}`] = queue.deadLetterUrl;
    }
    return { queues, jobsTable, jobsStreamArn, buckets, environment };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
    s3.destroy();
  }
}
