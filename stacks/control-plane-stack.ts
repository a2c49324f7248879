import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import { ManagedPolicy, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { StartingPosition, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { Api, Function as SstFunction, Stack } from 'sst/constructs';
import { LIVE_LOG_ROOT } from '../adapters/aws/s3-live-log.js';
import { DEAD_LETTER_RETENTION_SECONDS } from '../core/job-plane/queue-settings.js';
import type { DataStack } from './data-stack.js';
import { JobPlaneAccess } from './job-plane-access.js';
import { functionEnvironment, GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS } from './function-environment.js';
import { QueueAlarms } from './queue-alarms.js';
import { KubernetesName, StackOutput } from './stack-outputs.js';
import type { StageConfig } from './stage-config.js';

/** The HTTP API's routes (DESIGN.md section 6), all served by the API function. */
export const API_ROUTES = [
  'POST /v1/runs',
  'GET /v1/runs',
  'GET /v1/runs/{id}',
  'DELETE /v1/runs/{id}',
  'PUT /v1/tasks/{id}/status',
  'PUT /v1/steps/{id}/status',
  'GET /v1/jobs/{run_id}',
  'GET /healthz',
  'GET /readyz',
] as const;

/** Where the Lambda handlers are, relative to the project root (`<file>.<export>`). */
export const HANDLERS = {
  api: 'functions/api/handler.handler',
  reconcile: 'functions/reconcile/handler.handler',
  githubStatus: 'functions/github-status/handler.handler',
} as const;

/** Settings of the reconciler's DynamoDB stream mapping. */
export const RECONCILE_STREAM = {
  batchSize: 100,
  retryAttempts: 10,
  maxRecordAgeSeconds: 3600,
  maxBatchingWindowSeconds: 1,
} as const;

/** The fan-out's timeout: its longest rate-limit wait and a margin for the calls around it. */
const GITHUB_STATUS_TIMEOUT_SECONDS = GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS + 30;
/** Receives of a status event before it goes to its dead-letter queue. */
export const STATUS_EVENT_MAX_RECEIVES = 5;

/**
 * The control plane (DESIGN.md sections 1, 6, 7): the HTTP API on API Gateway and its function;
 * the reconciler on the jobs table's stream (new and old images, partial batch failures,
 * bisection, bounded retries and record age, an on-failure queue); the status event queue
 * (FIFO, ordered per commit) feeding the GitHub fan-out (partial batch failures, its own
 * dead-letter queue); and the access entry that maps the API function's role to the Kubernetes
 * group allowed to submit Workflows. Each function gets only its own environment and grants.
 */
export class ControlPlaneStack extends Stack {
  readonly api: Api;
  readonly apiFunction: SstFunction;
  readonly reconcileFunction: SstFunction;
  readonly githubStatusFunction: SstFunction;
  readonly statusEvents: Queue;

  constructor(
    scope: Construct,
    id: string,
    props: { readonly config: StageConfig; readonly data: DataStack },
  ) {
    super(scope, id);
    const { config, data } = props;
    const access = new JobPlaneAccess(data);
    const queueName = (name: string) => `${config.stage}-pipeline-${name}`;

    const statusEventsDeadLetter = new Queue(this, 'StatusEventsDeadLetterQueue', {
      queueName: `${queueName('status-events-dlq')}.fifo`,
      fifo: true,
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.statusEvents = new Queue(this, 'StatusEventsQueue', {
      queueName: `${queueName('status-events')}.fifo`,
      fifo: true,
      contentBasedDeduplication: true,
      // Lambda's guidance: at least six times the consumer's timeout.
      visibilityTimeout: Duration.seconds(GITHUB_STATUS_TIMEOUT_SECONDS * 6),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: {
        queue: statusEventsDeadLetter,
        maxReceiveCount: STATUS_EVENT_MAX_RECEIVES,
      },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const reconcileFailures = new Queue(this, 'ReconcileFailuresQueue', {
      queueName: queueName('reconcile-failures'),
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const environment = functionEnvironment(config, data, this.statusEvents);
    this.apiFunction = new SstFunction(this, 'ApiFunction', {
      handler: HANDLERS.api,
      description: 'Catalyst Forge Pipeline HTTP API',
      timeout: 29,
      memorySize: 1024,
      environment: environment.api,
    });
    this.reconcileFunction = new SstFunction(this, 'ReconcileFunction', {
      handler: HANDLERS.reconcile,
      description: 'Catalyst Forge Pipeline job stream reconciler',
      timeout: 60,
      memorySize: 1024,
      environment: environment.reconcile,
    });
    this.githubStatusFunction = new SstFunction(this, 'GitHubStatusFunction', {
      handler: HANDLERS.githubStatus,
      description: 'Catalyst Forge Pipeline GitHub status fan-out',
      timeout: GITHUB_STATUS_TIMEOUT_SECONDS,
      memorySize: 512,
      environment: environment.githubStatus,
    });

    this.reconcileFunction.addEventSource(
      new DynamoEventSource(data.jobsTable, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: RECONCILE_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(RECONCILE_STREAM.maxBatchingWindowSeconds),
        bisectBatchOnError: true,
        retryAttempts: RECONCILE_STREAM.retryAttempts,
        maxRecordAge: Duration.seconds(RECONCILE_STREAM.maxRecordAgeSeconds),
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(reconcileFailures),
      }),
    );
    this.githubStatusFunction.addEventSource(
      new SqsEventSource(this.statusEvents, { batchSize: 10, reportBatchItemFailures: true }),
    );

    this.grant(this.apiFunction, [
      access.readSecrets([data.secrets.databaseUrl]),
      access.jobRecords(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      access.jobsByRun(),
      access.objects(data.buckets.results, ['s3:GetObject'], ['*']),
      access.objects(data.buckets.logs, ['s3:GetObject'], ['*.log', `${LIVE_LOG_ROOT}*`]),
      access.listObjects(data.buckets.logs, LIVE_LOG_ROOT),
      sendTo(this.statusEvents),
      new PolicyStatement({
        actions: ['eks:DescribeCluster'],
        resources: [
          this.formatArn({
            service: 'eks',
            resource: 'cluster',
            resourceName: config.cluster.name,
          }),
        ],
      }),
    ]);
    this.grant(this.reconcileFunction, [
      access.readSecrets([data.secrets.databaseUrl]),
      access.objects(data.buckets.results, ['s3:GetObject'], ['*/discovery.json']),
      sendTo(this.statusEvents),
    ]);
    this.grant(this.githubStatusFunction, [access.readSecrets([data.secrets.githubToken])]);
    if (config.lambdaNetwork) {
      for (const fn of [this.apiFunction, this.reconcileFunction]) {
        const cfn = fn.node.defaultChild as CfnFunction;
        cfn.vpcConfig = {
          subnetIds: [...config.lambdaNetwork.subnetIds],
          securityGroupIds: [...config.lambdaNetwork.securityGroupIds],
        };
        (fn.role as IRole).addManagedPolicy(
          ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
        );
      }
    }

    this.api = new Api(this, 'Api', {
      defaults: { throttle: { rate: 100, burst: 200 } },
      routes: Object.fromEntries(API_ROUTES.map((route) => [route, this.apiFunction])),
    });

    if (config.cluster.accessEntry) {
      new CfnAccessEntry(this, 'ApiAccessEntry', {
        clusterName: config.cluster.name,
        principalArn: (this.apiFunction.role as IRole).roleArn,
        kubernetesGroups: [KubernetesName.workflowSubmittersGroup],
        type: 'STANDARD',
      });
    }

    const alarms = new QueueAlarms(this, 'QueueAlarms', {
      action: new SnsAction(data.alarmTopic),
    });
    alarms.onAnyMessage('StatusEventsDeadLetter', statusEventsDeadLetter);
    alarms.onAnyMessage('ReconcileFailures', reconcileFailures);

    this.addOutputs({
      [StackOutput.apiUrl]: this.api.url,
      [StackOutput.apiFunctionRoleArn]: (this.apiFunction.role as IRole).roleArn,
      [StackOutput.workflowSubmittersGroup]: KubernetesName.workflowSubmittersGroup,
      [StackOutput.statusEventsQueueUrl]: this.statusEvents.queueUrl,
    });
  }

  private grant(fn: SstFunction, statements: readonly PolicyStatement[]): void {
    for (const statement of statements) fn.addToRolePolicy(statement);
  }
}

function sendTo(queue: Queue): PolicyStatement {
  return new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] });
}
