import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  Queue,
  QueueEncryption,
  RedrivePermission,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  MAX_LONG_POLL_SECONDS,
  QUEUE_SETTINGS,
  QueueName,
} from '../core/job-plane/queue-settings.js';

/** A job queue with its dead-letter queue. */
export interface JobQueue {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
}

/**
 * The four FIFO job queues of DESIGN.md section 5, `<stage>-pipeline-<name>.fifo`, with the
 * visibility, retention and redrive (after 3 receives) of `core/job-plane/queue-settings.ts`, the
 * one definition the emulators and the workers also use. Every message is its own message group
 * (`SqsJobQueue`), so deduplication and throughput are per group (high-throughput FIFO). The
 * queues only carry job ids and inputs, so they are destroyed with any stage.
 */
export class JobQueues extends Construct {
  readonly byName: Readonly<Record<QueueName, JobQueue>>;

  constructor(scope: Construct, id: string, props: { readonly stage: string }) {
    super(scope, id);
    const entries = Object.values(QueueName).map((name) => {
      const settings = QUEUE_SETTINGS[name];
      const baseName = `${props.stage}-pipeline-${name}`;
      // Only its own job queue may move messages into a dead-letter queue. Its ARN is built
      // from the name because the job queue itself refers to the dead-letter queue.
      const sourceQueueArn = Stack.of(this).formatArn({
        service: 'sqs',
        resource: `${baseName}.fifo`,
      });
      const deadLetterQueue = new Queue(this, `${capitalised(name)}DeadLetterQueue`, {
        queueName: `${baseName}-dlq.fifo`,
        fifo: true,
        redriveAllowPolicy: {
          redrivePermission: RedrivePermission.BY_QUEUE,
          sourceQueues: [Queue.fromQueueArn(this, `${capitalised(name)}Source`, sourceQueueArn)],
        },
        retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const queue = new Queue(this, `${capitalised(name)}Queue`, {
        queueName: `${baseName}.fifo`,
        fifo: true,
        contentBasedDeduplication: false,
        deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(settings.retentionSeconds),
        receiveMessageWaitTime: Duration.seconds(MAX_LONG_POLL_SECONDS),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      return [name, { queue, deadLetterQueue }] as const;
    });
    this.byName = Object.fromEntries(entries) as Record<QueueName, JobQueue>;
  }
}

/** `tasks` → `Tasks`, for construct ids. */
function capitalised(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
