import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_SETTINGS, QueueName } from '../../core/job-plane/queue-settings.js';
import { synthesizeStage, testStageConfig, type SynthesizedStage } from './synthesized-stage.js';

/** DESIGN.md section 5: visibility and retention of each queue, in seconds. */
const DESIGN_QUEUES = {
  discovery: { visibility: 300, retention: 3600 },
  tasks: { visibility: 1800, retention: 7200 },
  artifacts: { visibility: 1200, retention: 3600 },
  releases: { visibility: 900, retention: 3600 },
} as const;

/** DESIGN.md section 5: days objects live in each bucket. */
const DESIGN_BUCKET_DAYS = { results: 7, logs: 90, staging: 1 } as const;

const logicalId = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

let test: SynthesizedStage;
let production: SynthesizedStage;

beforeAll(async () => {
  test = await synthesizeStage(testStageConfig('test'));
  production = await synthesizeStage(testStageConfig('production'));
});

afterAll(async () => {
  await test?.remove();
  await production?.remove();
});

describe('job queues', () => {
  it('are FIFO queues with the visibility, retention and long polling of DESIGN.md, redriven to their DLQ after 3 receives', () => {
    // Arrange
    const { data, stacks } = test;

    for (const name of Object.values(QueueName)) {
      const { queue, deadLetterQueue } = stacks.data.queues.byName[name];
      const deadLetterId = logicalId(stacks.data, deadLetterQueue);

      // Act
      const queues = data.findResources('AWS::SQS::Queue', {
        Properties: { QueueName: `test-pipeline-${name}.fifo` },
      });

      // Assert
      expect(Object.keys(queues)).toEqual([logicalId(stacks.data, queue)]);
      data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `test-pipeline-${name}.fifo`,
        FifoQueue: true,
        ContentBasedDeduplication: false,
        VisibilityTimeout: DESIGN_QUEUES[name].visibility,
        MessageRetentionPeriod: DESIGN_QUEUES[name].retention,
        ReceiveMessageWaitTimeSeconds: 20,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `test-pipeline-${name}-dlq.fifo`,
        FifoQueue: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
        RedriveAllowPolicy: {
          redrivePermission: 'byQueue',
          sourceQueueArns: [
            Match.objectLike({
              'Fn::Join': [
                '',
                Match.arrayWith([
                  Match.stringLikeRegexp(`:sqs:eu-west-1:\\d{12}:test-pipeline-${name}\\.fifo$`),
                ]),
              ],
            }),
          ],
        },
      });
    }
  });

  it('match the settings the workers and the emulators use (core/job-plane/queue-settings.ts)', () => {
    // Arrange, Act
    const settings = Object.fromEntries(
      Object.entries(QUEUE_SETTINGS).map(
        ([name, { visibilityTimeoutSeconds, retentionSeconds }]) => [
          name,
          { visibility: visibilityTimeoutSeconds, retention: retentionSeconds },
        ],
      ),
    );

    // Assert
    expect(settings).toEqual(DESIGN_QUEUES);
  });

  it('refuse every request that does not use TLS', () => {
    // Arrange
    const { data } = test;

    // Act
    const policies = Object.values(data.findResources('AWS::SQS::QueuePolicy'));

    // Assert
    expect(policies).toHaveLength(8);
    for (const policy of policies) {
      expect(policy).toMatchObject({
        Properties: {
          PolicyDocument: {
            Statement: expect.arrayContaining([
              expect.objectContaining({
                Effect: 'Deny',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        },
      });
    }
  });

  it('alarm on any message in a dead-letter queue and on an old message in a job queue, notifying the alarm topic', () => {
    // Arrange
    const { data, stacks } = test;
    const topic = logicalId(stacks.data, stacks.data.alarmTopic);

    for (const name of Object.values(QueueName)) {
      const { queue, deadLetterQueue } = stacks.data.queues.byName[name];

      // Act, Assert
      data.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(stacks.data, deadLetterQueue), 'QueueName'] },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        AlarmActions: [{ Ref: topic }],
      });
      data.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(stacks.data, queue), 'QueueName'] },
          },
        ],
        Threshold: DESIGN_QUEUES[name].retention / 2,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: topic }],
      });
    }
  });
});

describe('jobs table', () => {
  it('is <stage>-pipeline-jobs keyed by job_id, on demand, with the run_id index, TTL, stream and point-in-time recovery', () => {
    // Arrange
    const { data } = test;

    // Act, Assert
    data.resourceCountIs('AWS::DynamoDB::Table', 1);
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'test-pipeline-jobs',
      KeySchema: [{ AttributeName: 'job_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'run_id-index',
          KeySchema: [
            { AttributeName: 'run_id', KeyType: 'HASH' },
            { AttributeName: 'job_id', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('buckets', () => {
  it('are private, encrypted and TLS-only, and expire objects after 7, 90 and 1 days', () => {
    // Arrange
    const { data, stacks } = test;

    for (const name of ['results', 'logs', 'staging'] as const) {
      const bucket = logicalId(stacks.data, stacks.data.buckets[name]);

      // Act
      const properties = data.findResources('AWS::S3::Bucket')[bucket]?.Properties as unknown;

      // Assert
      expect(properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([
            expect.objectContaining({
              ExpirationInDays: DESIGN_BUCKET_DAYS[name],
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            }),
          ]),
        },
      });
      data.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('remove the segments of live logs whose writer died', () => {
    // Arrange
    const { data, stacks } = test;
    const logs = logicalId(stacks.data, stacks.data.buckets.logs);

    // Act
    const rules = (
      data.findResources('AWS::S3::Bucket')[logs]?.Properties as {
        LifecycleConfiguration: { Rules: { Prefix?: string; ExpirationInDays: number }[] };
      }
    ).LifecycleConfiguration.Rules;

    // Assert
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: '.live/', ExpirationInDays: 2 }),
    );
  });
});

describe('secrets', () => {
  it('are created per stage with a generated placeholder, never a value in the template', () => {
    // Arrange
    const { data } = test;

    // Act
    const secrets = Object.values(data.findResources('AWS::SecretsManager::Secret')) as {
      Properties: { Name: string; SecretString?: string; GenerateSecretString?: object };
    }[];

    // Assert
    expect(secrets.map((secret) => secret.Properties.Name).sort()).toEqual([
      'forge/test/buildkit/ca',
      'forge/test/buildkit/cert',
      'forge/test/buildkit/key',
      'forge/test/database-url',
      'forge/test/github-token',
    ]);
    for (const secret of secrets) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
  });
});

describe('removal', () => {
  const dataTypes = ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret'];

  it('retains the table, the buckets and the secrets of a production stage', () => {
    // Arrange
    const { data } = production;

    for (const type of dataTypes) {
      // Act
      const resources = Object.values(data.findResources(type));

      // Assert
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
    data.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    data.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('deletes them, with the buckets emptied first, when any other stage is removed', () => {
    // Arrange
    const { data } = test;

    for (const type of dataTypes) {
      // Act
      const resources = Object.values(data.findResources(type));

      // Assert
      for (const resource of resources)
        expect(resource).toMatchObject({ DeletionPolicy: 'Delete' });
    }
    data.resourceCountIs('Custom::S3AutoDeleteObjects', 3);
  });
});
