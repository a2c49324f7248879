import { ArnFormat } from 'aws-cdk-lib';
import { Role, WebIdentityPrincipal, type PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { Stack } from 'sst/constructs';
import { LIVE_LOG_ROOT } from '../adapters/aws/s3-live-log.js';
import { QueueName } from '../core/job-plane/queue-settings.js';
import type { DataStack } from './data-stack.js';
import { JobPlaneAccess } from './job-plane-access.js';
import { KubernetesName, StackOutput } from './stack-outputs.js';
import type { StageConfig } from './stage-config.js';

/** Key patterns (`core/job-plane/blob-keys.ts`) each identity may touch. */
const DISCOVERY_RESULT = '*/discovery.json';
const STEP_RESULTS = '*/phases/*';
const STEP_LOGS = '*.log';
const LIVE_LOG_SEGMENTS = `${LIVE_LOG_ROOT}*`;

/**
 * The IAM roles of the pods on EKS (IAM roles for service accounts): the dispatcher, the
 * discovery pool and the task pool, each assumable only by its own Kubernetes service account
 * (`system:serviceaccount:<namespace>:<name>`, audience `sts.amazonaws.com`) through the
 * cluster's OIDC provider, and the role KEDA assumes to read queue depths. Each role gets only
 * what its process does: the dispatcher submits and follows jobs, the discovery pool takes
 * discovery jobs and writes discovery results, the task pool takes task jobs, writes step
 * results and logs and reads the BuildKit TLS secrets and the secrets steps name.
 */
export class ClusterAccessStack extends Stack {
  readonly dispatcherRole: Role;
  readonly discoveryWorkerRole: Role;
  readonly taskWorkerRole: Role;
  readonly queueScalerRole: Role;

  constructor(
    scope: Construct,
    id: string,
    props: { readonly config: StageConfig; readonly data: DataStack },
  ) {
    super(scope, id);
    const { cluster, ciSecretsPrefix } = props.config;
    const { buckets, secrets } = props.data;
    const access = new JobPlaneAccess(props.data);
    const providerArn =
      cluster.oidcProviderArn ??
      this.formatArn({
        service: 'iam',
        region: '',
        resource: 'oidc-provider',
        resourceName: cluster.oidcIssuerHost,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const role = (
      constructId: string,
      account: { readonly namespace: string; readonly name: string },
      statements: readonly PolicyStatement[],
    ) => {
      const created = new Role(this, constructId, {
        description: `Catalyst Forge ${this.stage}: service account ${account.namespace}/${account.name}`,
        assumedBy: new WebIdentityPrincipal(providerArn, {
          StringEquals: {
            [`${cluster.oidcIssuerHost}:sub`]: `system:serviceaccount:${account.namespace}:${account.name}`,
            [`${cluster.oidcIssuerHost}:aud`]: 'sts.amazonaws.com',
          },
        }),
      });
      for (const statement of statements) created.addToPolicy(statement);
      return created;
    };
    const inNamespace = (name: string) => ({ namespace: cluster.namespace, name });

    this.dispatcherRole = role(
      'DispatcherRole',
      inNamespace(KubernetesName.dispatcherServiceAccount),
      [
        access.sendToQueues(Object.values(QueueName)),
        access.jobRecords(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']),
        access.jobsByRun(),
        access.objects(buckets.results, ['s3:GetObject'], [DISCOVERY_RESULT]),
      ],
    );
    this.discoveryWorkerRole = role(
      'DiscoveryWorkerRole',
      inNamespace(KubernetesName.discoveryWorkerServiceAccount),
      [
        access.consumeQueue(QueueName.discovery),
        access.jobRecords(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        access.objects(buckets.results, ['s3:PutObject'], [DISCOVERY_RESULT]),
      ],
    );
    this.taskWorkerRole = role(
      'TaskWorkerRole',
      inNamespace(KubernetesName.taskWorkerServiceAccount),
      [
        access.consumeQueue(QueueName.tasks),
        access.jobRecords(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
        access.objects(buckets.results, ['s3:PutObject'], [STEP_RESULTS]),
        access.objects(
          buckets.logs,
          ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
          [STEP_LOGS, LIVE_LOG_SEGMENTS],
        ),
        access.listObjects(buckets.logs, LIVE_LOG_ROOT),
        access.readSecrets([
          secrets.buildkitTls.ca,
          secrets.buildkitTls.cert,
          secrets.buildkitTls.key,
        ]),
        access.readSecretsNamed(ciSecretsPrefix),
      ],
    );
    this.queueScalerRole = role('QueueScalerRole', cluster.kedaServiceAccount, [
      access.readQueueDepth([QueueName.discovery, QueueName.tasks]),
    ]);

    this.addOutputs({
      [StackOutput.namespace]: cluster.namespace,
      [StackOutput.dispatcherRoleArn]: this.dispatcherRole.roleArn,
      [StackOutput.discoveryWorkerRoleArn]: this.discoveryWorkerRole.roleArn,
      [StackOutput.taskWorkerRoleArn]: this.taskWorkerRole.roleArn,
      [StackOutput.queueScalerRoleArn]: this.queueScalerRole.roleArn,
    });
  }
}
