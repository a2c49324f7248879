import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { JOBS_BY_RUN_INDEX } from '../adapters/aws/job-plane-resources.js';
import type { QueueName } from '../core/job-plane/queue-settings.js';
import type { DataStack } from './data-stack.js';

/** What a job-plane identity does with job records (`DynamoJobStore`). */
export type JobRecordAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem';

/**
 * Least-privilege IAM statements over the data stack's resources, each naming the precise
 * resource: the queue, the table or its `run_id` index, the objects a key pattern of
 * `core/job-plane/blob-keys.ts` describes, the secret. The CDK's `grant*` helpers give more
 * than an identity of this platform needs (whole-bucket writes, every index, batch and scan
 * calls), so every identity is granted through these instead.
 */
export class JobPlaneAccess {
  readonly #data: DataStack;

  constructor(data: DataStack) {
    this.#data = data;
  }

  /** Take jobs from a queue: receive, delete, extend visibility (heartbeat), read the depth. */
  consumeQueue(name: QueueName): PolicyStatement {
    return allow(
      [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      [this.#data.queues.byName[name].queue.queueArn],
    );
  }

  /** Submit jobs to queues (and read their depth). */
  sendToQueues(names: readonly QueueName[]): PolicyStatement {
    return allow(
      ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      names.map((name) => this.#data.queues.byName[name].queue.queueArn),
    );
  }

  /** Read the depth of queues, for autoscaling. */
  readQueueDepth(names: readonly QueueName[]): PolicyStatement {
    return allow(
      ['sqs:GetQueueAttributes'],
      names.map((name) => this.#data.queues.byName[name].queue.queueArn),
    );
  }

  /** Read or write single job records of the jobs table. */
  jobRecords(actions: readonly JobRecordAction[]): PolicyStatement {
    return allow(actions, [this.#data.jobsTable.tableArn]);
  }

  /** List a run's jobs through the `run_id` index (and only that index). */
  jobsByRun(): PolicyStatement {
    return allow(
      ['dynamodb:Query'],
      [`${this.#data.jobsTable.tableArn}/index/${JOBS_BY_RUN_INDEX}`],
    );
  }

  /** Object actions on the keys of `bucket` that match `keyPatterns` (S3 ARN wildcards). */
  objects(
    bucket: IBucket,
    actions: readonly string[],
    keyPatterns: readonly string[],
  ): PolicyStatement {
    return allow(
      actions,
      keyPatterns.map((pattern) => bucket.arnForObjects(pattern)),
    );
  }

  /** List the keys of `bucket` under `prefix` only. */
  listObjects(bucket: IBucket, prefix: string): PolicyStatement {
    return new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    });
  }

  /** Read the current value of these secrets. */
  readSecrets(secrets: readonly ISecret[]): PolicyStatement {
    return allow(
      ['secretsmanager:GetSecretValue'],
      secrets.map((secret) => secret.secretArn),
    );
  }

  /**
   * Read every secret whose name starts with `prefix`: the secrets steps name in `.forge`
   * configuration, unknown when the stack is deployed (their ARNs end in a random suffix).
   */
  readSecretsNamed(prefix: string): PolicyStatement {
    const arn = Stack.of(this.#data).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return allow(['secretsmanager:GetSecretValue'], [arn]);
  }
}

function allow(actions: readonly string[], resources: readonly string[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: [...actions],
    resources: [...resources],
  });
}
