import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  type QueueSettings,
} from '../../core/job-plane/queue-settings.js';

/** The jobs table's index on `run_id` (DESIGN.md section 5). */
export const JOBS_BY_RUN_INDEX = 'run_id-index';

/** URLs of a job queue and of its dead-letter queue. */
export interface ProvisionedQueue {
  readonly url: string;
  readonly deadLetterUrl: string;
}

/**
 * Creates a FIFO job queue `<name>.fifo` with its dead-letter queue `<name>-dlq.fifo`
 * (redrive after `maxReceiveCount` receives), for emulators and tests. Production queues come
 * from the SST stacks with the same settings. Idempotent: existing queues are reused.
 */
export async function createJobQueue(
  sqs: SQSClient,
  name: string,
  settings: QueueSettings,
): Promise<ProvisionedQueue> {
  const deadLetter = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq.fifo`,
      Attributes: {
        FifoQueue: 'true',
        MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
      },
    }),
  );
  const deadLetterUrl = deadLetter.QueueUrl as string;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(settings.retentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  return { url: queue.QueueUrl as string, deadLetterUrl };
}

/**
 * Creates the jobs table (DESIGN.md section 5): key `job_id`, index on `run_id`, stream with
 * new and old images, TTL on `ttl`, on-demand billing. Returns the stream's ARN.
 */
export async function createJobsTable(
  dynamodb: DynamoDBClient,
  tableName: string,
): Promise<string> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'job_id', AttributeType: 'S' },
        { AttributeName: 'run_id', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: JOBS_BY_RUN_INDEX,
          KeySchema: [
            { AttributeName: 'run_id', KeyType: 'HASH' },
            { AttributeName: 'job_id', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    }),
  );
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  return Table?.LatestStreamArn as string;
}

/** Creates a bucket; an existing bucket of ours is reused. */
export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}
