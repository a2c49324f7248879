import { RemovalPolicy } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Stack } from 'sst/constructs';
import { JOBS_BY_RUN_INDEX } from '../adapters/aws/job-plane-resources.js';
import { QUEUE_SETTINGS, QueueName } from '../core/job-plane/queue-settings.js';
import { ForgeSecrets } from './forge-secrets.js';
import { JobBuckets } from './job-buckets.js';
import { JobQueues } from './job-queues.js';
import { QueueAlarms } from './queue-alarms.js';
import { StackOutput } from './stack-outputs.js';
import type { StageConfig } from './stage-config.js';

/** A job queue alarms when its oldest message has used half of its retention. */
export const OLDEST_MESSAGE_ALARM_SHARE = 0.5;

/**
 * The job plane's data and the platform's secrets (DESIGN.md section 5): the four job queues
 * with their dead-letter queues, the `<stage>-pipeline-jobs` table (key `job_id`, index on
 * `run_id`, TTL on `ttl`, on-demand, stream with new and old images, point-in-time recovery),
 * the results, logs and staging buckets, the secrets, and the alarms on the queues with the
 * topic they notify. Production stages keep table, buckets and secrets when removed.
 */
export class DataStack extends Stack {
  readonly queues: JobQueues;
  readonly jobsTable: Table;
  readonly buckets: JobBuckets;
  readonly secrets: ForgeSecrets;
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: { readonly config: StageConfig }) {
    super(scope, id);
    const { stage, retainData } = props.config;

    this.queues = new JobQueues(this, 'JobQueues', { stage });
    this.jobsTable = new Table(this, 'JobsTable', {
      tableName: `${stage}-pipeline-jobs`,
      partitionKey: { name: 'job_id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retainData,
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.jobsTable.addGlobalSecondaryIndex({
      indexName: JOBS_BY_RUN_INDEX,
      partitionKey: { name: 'run_id', type: AttributeType.STRING },
      sortKey: { name: 'job_id', type: AttributeType.STRING },
    });
    this.buckets = new JobBuckets(this, 'Buckets', { retainData });
    this.secrets = new ForgeSecrets(this, 'Secrets', { stage, retainData });

    this.alarmTopic = new Topic(this, 'Alarms', { displayName: `Catalyst Forge ${stage} alarms` });
    const alarms = new QueueAlarms(this, 'QueueAlarms', { action: new SnsAction(this.alarmTopic) });
    for (const name of Object.values(QueueName)) {
      const { queue, deadLetterQueue } = this.queues.byName[name];
      const retention = QUEUE_SETTINGS[name].retentionSeconds;
      alarms.onAnyMessage(`${name}DeadLetter`, deadLetterQueue);
      alarms.onOldestMessageAge(name, queue, retention * OLDEST_MESSAGE_ALARM_SHARE);
    }

    const queues = this.queues.byName;
    this.addOutputs({
      [StackOutput.region]: this.region,
      [StackOutput.discoveryQueueUrl]: queues.discovery.queue.queueUrl,
      [StackOutput.tasksQueueUrl]: queues.tasks.queue.queueUrl,
      [StackOutput.artifactsQueueUrl]: queues.artifacts.queue.queueUrl,
      [StackOutput.releasesQueueUrl]: queues.releases.queue.queueUrl,
      [StackOutput.discoveryDeadLetterQueueUrl]: queues.discovery.deadLetterQueue.queueUrl,
      [StackOutput.tasksDeadLetterQueueUrl]: queues.tasks.deadLetterQueue.queueUrl,
      [StackOutput.artifactsDeadLetterQueueUrl]: queues.artifacts.deadLetterQueue.queueUrl,
      [StackOutput.releasesDeadLetterQueueUrl]: queues.releases.deadLetterQueue.queueUrl,
      [StackOutput.jobsTableName]: this.jobsTable.tableName,
      [StackOutput.jobsStreamArn]: this.jobsTable.tableStreamArn,
      [StackOutput.resultsBucketName]: this.buckets.results.bucketName,
      [StackOutput.logsBucketName]: this.buckets.logs.bucketName,
      [StackOutput.stagingBucketName]: this.buckets.staging.bucketName,
      [StackOutput.databaseSecretArn]: this.secrets.databaseUrl.secretArn,
      [StackOutput.githubTokenSecretArn]: this.secrets.githubToken.secretArn,
      [StackOutput.buildkitTlsCaSecretArn]: this.secrets.buildkitTls.ca.secretArn,
      [StackOutput.buildkitTlsCertSecretArn]: this.secrets.buildkitTls.cert.secretArn,
      [StackOutput.buildkitTlsKeySecretArn]: this.secrets.buildkitTls.key.secretArn,
      [StackOutput.alarmTopicArn]: this.alarmTopic.topicArn,
    });
  }
}
