import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../config/auth-environment.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import { loadPostgresConfig } from '../../config/postgres-environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { QueueName } from '../../core/job-plane/queue-settings.js';
import { StackOutputsSchema } from '../../deploy/kubernetes/stack-outputs.js';
import { loadReconcileConfig } from '../../functions/reconcile/reconcile-environment.js';
import { grantedStatements, grantsOf, type GrantedStatement } from './iam-statements.js';
import {
  synthesizeStage,
  TEST_CLUSTER,
  testStageConfig,
  type SynthesizedStage,
} from './synthesized-stage.js';
import { TemplateValues } from './template-values.js';

/** DESIGN.md section 6. */
const DESIGN_ROUTES = [
  'POST /v1/runs',
  'GET /v1/runs/{id}',
  'GET /v1/runs',
  'DELETE /v1/runs/{id}',
  'PUT /v1/tasks/{id}/status',
  'PUT /v1/steps/{id}/status',
  'GET /v1/jobs/{run_id}',
  'GET /healthz',
  'GET /readyz',
];

/** Lambda's limit on a function's environment variables (names and values). */
const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

const logicalId = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

let stage: SynthesizedStage;
let networked: SynthesizedStage;
let values: TemplateValues;
let statements: GrantedStatement[];

beforeAll(async () => {
  stage = await synthesizeStage(testStageConfig('test'));
  networked = await synthesizeStage(
    testStageConfig('networked', {
      FORGE_LAMBDA_SUBNET_IDS: 'subnet-0a,subnet-0b',
      FORGE_LAMBDA_SECURITY_GROUP_IDS: 'sg-0c',
      FORGE_EKS_OIDC_PROVIDER_ARN:
        'arn:aws:iam::123456789012:oidc-provider/issuer.example.com/id/1',
      FORGE_EKS_ACCESS_ENTRY: 'false',
      FORGE_KUBE_API_URL: TEST_CLUSTER.apiUrl,
    }),
  );
  values = new TemplateValues(stage.all);
  statements = stage.all.flatMap((template) => grantedStatements(template, values));
});

afterAll(async () => {
  await stage?.remove();
  await networked?.remove();
});

/** Logical ids of the roles of the functions and the service accounts. */
function roles() {
  const { controlPlane, clusterAccess } = stage.stacks;
  const functionRole = (fn: { role?: IConstruct }) =>
    logicalId(controlPlane, fn.role as IConstruct);
  return {
    api: functionRole(controlPlane.apiFunction),
    reconcile: functionRole(controlPlane.reconcileFunction),
    githubStatus: functionRole(controlPlane.githubStatusFunction),
    dispatcher: logicalId(clusterAccess, clusterAccess.dispatcherRole),
    discoveryWorker: logicalId(clusterAccess, clusterAccess.discoveryWorkerRole),
    taskWorker: logicalId(clusterAccess, clusterAccess.taskWorkerRole),
    queueScaler: logicalId(clusterAccess, clusterAccess.queueScalerRole),
  };
}

/** Symbolic names of the data stack's resources, as policies refer to them. */
function data() {
  const stack = stage.stacks.data;
  const ref = (construct: IConstruct, attribute: string) =>
    `\${${logicalId(stack, construct)}.${attribute}}`;
  const queues = stack.queues.byName;
  return {
    queueArn: (name: QueueName) => ref(queues[name].queue, 'Arn'),
    table: ref(stack.jobsTable, 'Arn'),
    runIndex: `${ref(stack.jobsTable, 'Arn')}/index/run_id-index`,
    results: ref(stack.buckets.results, 'Arn'),
    logs: ref(stack.buckets.logs, 'Arn'),
    secret: (construct: IConstruct) => `\${${logicalId(stack, construct)}}`,
  };
}

describe('functions', () => {
  it('run on nodejs22.x from the handlers other parts write', () => {
    // Arrange
    const { controlPlane } = stage.stacks;
    const functions = {
      'functions/api/handler.handler': controlPlane.apiFunction,
      'functions/reconcile/handler.handler': controlPlane.reconcileFunction,
      'functions/github-status/handler.handler': controlPlane.githubStatusFunction,
    };

    for (const [handler, fn] of Object.entries(functions)) {
      // Act
      const metadata = fn.getConstructMetadata().data;
      const resource =
        stage.controlPlane.findResources('AWS::Lambda::Function')[logicalId(controlPlane, fn)];

      // Assert
      expect(metadata).toMatchObject({ runtime: 'nodejs22.x', handler });
      expect(resource?.Properties).toMatchObject({ Runtime: 'nodejs22.x' });
    }
  });

  it('route every API path of DESIGN.md to the API function', () => {
    // Arrange
    const api = logicalId(stage.stacks.controlPlane, stage.stacks.controlPlane.apiFunction);
    const template = stage.controlPlane;

    // Act
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as {
      Properties: { RouteKey: string; Target: { 'Fn::Join': [string, [string, { Ref: string }]] } };
    }[];
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration') as Record<
      string,
      { Properties: { IntegrationUri: { 'Fn::GetAtt': [string, string] } } }
    >;

    // Assert
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(
      [...DESIGN_ROUTES].sort(),
    );
    for (const route of routes) {
      const integration = route.Properties.Target['Fn::Join'][1][1].Ref;
      expect(integrations[integration]?.Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': [api, 'Arn'],
      });
    }
  });

  it('feed the reconciler from the jobs stream with partial failures, bisection, bounded retries and an on-failure queue', () => {
    // Arrange
    const { controlPlane } = stage.stacks;
    const reconcile = logicalId(controlPlane, controlPlane.reconcileFunction);

    // Act
    const mappings = Object.values(
      stage.controlPlane.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: reconcile } },
      }),
    ) as { Properties: Record<string, unknown> }[];

    // Assert
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.Properties ?? {};
    expect(values.symbolic(mapping.EventSourceArn)).toBe(
      `\${${logicalId(stage.stacks.data, stage.stacks.data.jobsTable)}.StreamArn}`,
    );
    expect(mapping).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRecordAgeInSeconds: 3600,
    });
    expect(mapping.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(mapping.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    const destination = (mapping.DestinationConfig as { OnFailure: { Destination: unknown } })
      .OnFailure;
    expect(values.symbolic(destination.Destination)).toMatch(
      /^\$\{ReconcileFailuresQueue\w+\.Arn\}$/,
    );
  });

  it('feed the GitHub fan-out from a FIFO status event queue with partial failures and its own dead-letter queue', () => {
    // Arrange
    const { controlPlane } = stage.stacks;
    const fanOut = logicalId(controlPlane, controlPlane.githubStatusFunction);
    const queue = logicalId(controlPlane, controlPlane.statusEvents);

    // Act
    const mappings = Object.values(
      stage.controlPlane.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: fanOut } },
      }),
    ) as { Properties: Record<string, unknown> }[];

    // Assert
    expect(mappings.map((mapping) => mapping.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    stage.controlPlane.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'test-pipeline-status-events.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: true,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    stage.controlPlane.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
  });

  it("set the variables each function's configuration reads, within Lambda's 4 KB", () => {
    // Arrange
    const { controlPlane } = stage.stacks;
    const deployedEnvironment = (fn: IConstruct) => {
      const resource = stage.controlPlane.findResources('AWS::Lambda::Function')[
        logicalId(controlPlane, fn)
      ] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
      return Object.fromEntries(
        Object.entries(resource.Properties.Environment.Variables).map(([key, value]) => [
          key,
          values.deployed(value, stage.controlPlane),
        ]),
      );
    };
    const api = deployedEnvironment(controlPlane.apiFunction);
    const reconcile = deployedEnvironment(controlPlane.reconcileFunction);
    const githubStatus = deployedEnvironment(controlPlane.githubStatusFunction);
    const size = (env: Record<string, string>) =>
      Object.entries(env).reduce((total, [key, value]) => total + key.length + value.length, 0);

    // Act
    const apiJobPlane = loadAwsJobPlaneConfig(api);
    const apiAuth = loadAuthConfig(api);
    const apiWorkflow = loadWorkflowConfig(api);
    const reconcileConfig = loadReconcileConfig(reconcile);
    const fanOut = loadGitHubConfig(githubStatus);

    // Assert
    expect(apiJobPlane.queueUrls.tasks).toMatch(/\/test-pipeline-tasks\.fifo$/);
    expect(apiJobPlane.jobsStreamArn).toMatch(/:table\/test-pipeline-jobs\/stream\//);
    expect(loadPostgresConfig(api)).toMatchObject({ kind: 'secret' });
    expect(apiAuth).toMatchObject({
      mode: 'aws',
      githubActions: { audience: 'catalyst-forge' },
      service: {
        issuer: `https://${TEST_CLUSTER.oidcIssuerHost}`,
        audience: 'forge-pipeline',
        allowedSubjects: ['system:serviceaccount:forge:*'],
      },
    });
    expect(apiWorkflow).toMatchObject({ engine: 'argo', argoUiUrl: 'https://argo.example.com' });
    expect(loadGitHubConfig(api).statusQueueUrl).toMatch(/test-pipeline-status-events\.fifo$/);
    expect(api.FORGE_KUBE_CLUSTER_NAME).toBe(TEST_CLUSTER.name);
    expect(api).not.toHaveProperty('FORGE_KUBE_API_URL');
    expect(apiWorkflow.argo?.kubernetes).toEqual({
      kubeconfig: undefined,
      context: undefined,
      eksCluster: { name: TEST_CLUSTER.name, apiUrl: undefined },
    });
    expect(reconcile).not.toHaveProperty('FORGE_KUBE_CLUSTER_NAME');
    expect(reconcileConfig).toMatchObject({
      postgres: { kind: 'secret' },
      statusQueueUrl: expect.stringMatching(/test-pipeline-status-events\.fifo$/),
      argo: { uiUrl: 'https://argo.example.com', namespace: 'forge' },
    });
    expect(fanOut.credentials).toMatchObject({ kind: 'secret' });
    expect(githubStatus.FORGE_GITHUB_TOKEN_SECRET).toMatch(/:secret:forge\/test\/github-token-/);
    expect(githubStatus).not.toHaveProperty('FORGE_DATABASE_SECRET_ARN');
    for (const env of [api, reconcile, githubStatus]) {
      expect(size(env)).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    }
  });

  it('put the API and the reconciler in the configured subnets when a stage names them', () => {
    // Arrange
    const { controlPlane } = networked.stacks;

    for (const fn of [controlPlane.apiFunction, controlPlane.reconcileFunction]) {
      // Act
      const properties = networked.controlPlane.findResources('AWS::Lambda::Function')[
        logicalId(controlPlane, fn)
      ]?.Properties as unknown;

      // Assert
      expect(properties).toMatchObject({
        VpcConfig: { SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-0c'] },
      });
    }
    expect(
      stage.controlPlane.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: {} } }),
    ).toEqual({});
  });

  it("give the API function the stage's API server URL only when the stage names one", () => {
    // Arrange
    const { controlPlane } = networked.stacks;

    // Act
    const variables = (
      networked.controlPlane.findResources('AWS::Lambda::Function')[
        logicalId(controlPlane, controlPlane.apiFunction)
      ]?.Properties as { Environment: { Variables: Record<string, unknown> } }
    ).Environment.Variables;

    // Assert
    expect(variables).toMatchObject({
      FORGE_KUBE_CLUSTER_NAME: TEST_CLUSTER.name,
      FORGE_KUBE_API_URL: TEST_CLUSTER.apiUrl,
    });
    expect(loadWorkflowConfig(variables as NodeJS.ProcessEnv).argo?.kubernetes.eksCluster).toEqual({
      name: TEST_CLUSTER.name,
      apiUrl: TEST_CLUSTER.apiUrl,
    });
  });

  it("map the API function's role to the Workflow submitters group, unless the stage opts out", () => {
    // Arrange
    const { api } = roles();

    // Act, Assert
    stage.controlPlane.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: TEST_CLUSTER.name,
      PrincipalArn: { 'Fn::GetAtt': [api, 'Arn'] },
      KubernetesGroups: ['forge-workflow-submitters'],
      Type: 'STANDARD',
    });
    networked.controlPlane.resourceCountIs('AWS::EKS::AccessEntry', 0);
  });
});

describe('identities', () => {
  it("trust each service account role to its own service account through the cluster's OIDC provider", () => {
    // Arrange
    const ids = roles();
    const host = TEST_CLUSTER.oidcIssuerHost;
    const expected = {
      [ids.dispatcher]: 'system:serviceaccount:forge:forge-dispatcher',
      [ids.discoveryWorker]: 'system:serviceaccount:forge:forge-discovery-worker',
      [ids.taskWorker]: 'system:serviceaccount:forge:forge-task-worker',
      [ids.queueScaler]: 'system:serviceaccount:keda:keda-operator',
    };

    for (const [role, subject] of Object.entries(expected)) {
      // Act
      const document = (
        stage.clusterAccess.findResources('AWS::IAM::Role')[role]?.Properties as {
          AssumeRolePolicyDocument: { Statement: { Principal: { Federated: unknown } }[] };
        }
      ).AssumeRolePolicyDocument;

      // Assert
      expect(document.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: expect.anything() as unknown },
          Condition: {
            StringEquals: { [`${host}:sub`]: subject, [`${host}:aud`]: 'sts.amazonaws.com' },
          },
        },
      ]);
      expect(values.symbolic(document.Statement[0]?.Principal.Federated)).toBe(
        `arn:aws:iam::123456789012:oidc-provider/${host}`,
      );
    }
    networked.clusterAccess.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              Federated: 'arn:aws:iam::123456789012:oidc-provider/issuer.example.com/id/1',
            },
          }),
        ],
      },
    });
  });

  it('grant each identity only what its process does, on the precise resources', () => {
    // Arrange
    const ids = roles();
    const { queueArn, table, runIndex, results, logs } = data();

    const everyQueue = Object.values(QueueName).map(queueArn).sort();

    // Act
    const grants = (role: string) => grantsOf(statements, role);

    // Assert
    expect(grants(ids.dispatcher)).toEqual({
      'dynamodb:GetItem': [table],
      'dynamodb:PutItem': [table],
      'dynamodb:Query': [runIndex],
      'dynamodb:UpdateItem': [table],
      's3:GetObject': [`${results}/*/discovery.json`],
      'sqs:GetQueueAttributes': everyQueue,
      'sqs:SendMessage': everyQueue,
    });
    expect(grants(ids.discoveryWorker)).toEqual({
      'dynamodb:GetItem': [table],
      'dynamodb:UpdateItem': [table],
      's3:PutObject': [`${results}/*/discovery.json`],
      'sqs:ChangeMessageVisibility': [queueArn('discovery')],
      'sqs:DeleteMessage': [queueArn('discovery')],
      'sqs:GetQueueAttributes': [queueArn('discovery')],
      'sqs:ReceiveMessage': [queueArn('discovery')],
    });
    expect(grants(ids.taskWorker)).toMatchObject({
      'dynamodb:GetItem': [table],
      'dynamodb:UpdateItem': [table],
      's3:AbortMultipartUpload': [`${logs}/*.log`, `${logs}/.live/*`],
      's3:DeleteObject': [`${logs}/*.log`, `${logs}/.live/*`],
      's3:GetObject': [`${logs}/*.log`, `${logs}/.live/*`],
      's3:ListBucket': [logs],
      's3:PutObject': [`${results}/*/phases/*`, `${logs}/*.log`, `${logs}/.live/*`].sort(),
      'sqs:ChangeMessageVisibility': [queueArn('tasks')],
      'sqs:DeleteMessage': [queueArn('tasks')],
      'sqs:GetQueueAttributes': [queueArn('tasks')],
      'sqs:ReceiveMessage': [queueArn('tasks')],
    });
    expect(Object.keys(grants(ids.taskWorker))).not.toContain('sqs:SendMessage');
    expect(grants(ids.queueScaler)).toEqual({
      'sqs:GetQueueAttributes': [queueArn('discovery'), queueArn('tasks')].sort(),
    });
    expect(grants(ids.githubStatus)).not.toHaveProperty('dynamodb:GetItem');
    expect(grants(ids.api)['eks:DescribeCluster']).toEqual([
      `arn:aws:eks:eu-west-1:123456789012:cluster/${TEST_CLUSTER.name}`,
    ]);
  });

  it('let only the identities that need a secret read it', () => {
    // Arrange
    const ids = roles();
    const { secrets } = stage.stacks.data;
    const { secret } = data();

    // Act
    const readers = (resource: string) =>
      statements
        .filter((statement) => statement.actions.includes('secretsmanager:GetSecretValue'))
        .filter((statement) => statement.resources.includes(resource))
        .flatMap((statement) => statement.roles)
        .sort();

    // Assert
    expect(readers(secret(secrets.databaseUrl))).toEqual([ids.api, ids.reconcile].sort());
    expect(readers(secret(secrets.githubToken))).toEqual([ids.githubStatus]);
    for (const tls of [secrets.buildkitTls.ca, secrets.buildkitTls.cert, secrets.buildkitTls.key]) {
      expect(readers(secret(tls))).toEqual([ids.taskWorker]);
    }
    expect(readers('arn:aws:secretsmanager:eu-west-1:123456789012:secret:forge/test/ci/*')).toEqual(
      [ids.taskWorker],
    );
  });

  it('use no wildcard resource where a precise ARN exists', () => {
    // Arrange: actions AWS offers no resource-level permission for.
    const unscopable = new Set(['dynamodb:ListStreams']);
    const imprecise = [
      /^\*$/,
      /:\*:/,
      /\/index\/\*$/,
      /table\/\*/,
      /:secret:\*$/,
      /^arn:aws:s3:::\*/,
    ];

    // Act
    const offending = statements.flatMap((statement) =>
      statement.resources
        .filter((resource) => imprecise.some((pattern) => pattern.test(resource)))
        .filter(() => !statement.actions.every((action) => unscopable.has(action)))
        .map((resource) => `${statement.actions.join(',')} on ${resource}`),
    );

    // Assert
    expect(statements.length).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });

  it('declare every output the Kubernetes side is rendered from', () => {
    // Arrange
    const declared = stage.all.flatMap((template) => Object.keys(template.findOutputs('*')));

    // Act
    const missing = Object.keys(StackOutputsSchema.shape).filter(
      (name) => !declared.includes(name),
    );

    // Assert
    expect(missing).toEqual([]);
  });
});
