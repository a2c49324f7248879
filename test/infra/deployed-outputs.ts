/**
 * Stack outputs as `sst deploy` writes them to `.sst/outputs.json` for a stage `test` in
 * eu-west-1: one object per stack, every value a deployed name, URL or ARN.
 */
export function deployedOutputs(): Record<string, Record<string, string>> {
  const account = '123456789012';
  const queue = (name: string) => `https://sqs.eu-west-1.amazonaws.com/${account}/${name}`;
  const secret = (name: string) =>
    `arn:aws:secretsmanager:eu-west-1:${account}:secret:forge/test/${name}-AbCdEf`;
  const role = (name: string) =>
    `arn:aws:iam::${account}:role/test-catalyst-forge-pipeline-${name}`;
  return {
    'test-catalyst-forge-pipeline-data': {
      Region: 'eu-west-1',
      DiscoveryQueueUrl: queue('test-pipeline-discovery.fifo'),
      TasksQueueUrl: queue('test-pipeline-tasks.fifo'),
      ArtifactsQueueUrl: queue('test-pipeline-artifacts.fifo'),
      ReleasesQueueUrl: queue('test-pipeline-releases.fifo'),
      DiscoveryDeadLetterQueueUrl: queue('test-pipeline-discovery-dlq.fifo'),
      TasksDeadLetterQueueUrl: queue('test-pipeline-tasks-dlq.fifo'),
      ArtifactsDeadLetterQueueUrl: queue('test-pipeline-artifacts-dlq.fifo'),
      ReleasesDeadLetterQueueUrl: queue('test-pipeline-releases-dlq.fifo'),
      JobsTableName: 'test-pipeline-jobs',
      JobsStreamArn: `arn:aws:dynamodb:eu-west-1:${account}:table/test-pipeline-jobs/stream/2026-01-01T00:00:00.000`,
      ResultsBucketName: 'test-catalyst-forge-pipeline-bucketsresults-1a2b3c',
      LogsBucketName: 'test-catalyst-forge-pipeline-bucketslogs-4d5e6f',
      StagingBucketName: 'test-catalyst-forge-pipeline-bucketsstaging-7a8b9c',
      DatabaseSecretArn: secret('database-url'),
      GitHubTokenSecretArn: secret('github-token'),
      BuildkitTlsCaSecretArn: secret('buildkit/ca'),
      BuildkitTlsCertSecretArn: secret('buildkit/cert'),
      BuildkitTlsKeySecretArn: secret('buildkit/key'),
      AlarmTopicArn: `arn:aws:sns:eu-west-1:${account}:alarms`,
      SSTMetadata: '{"app":"catalyst-forge-pipeline"}',
    },
    'test-catalyst-forge-pipeline-control-plane': {
      ApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      ApiFunctionRoleArn: role('ApiFunctionServiceRole'),
      WorkflowSubmittersGroup: 'forge-workflow-submitters',
      StatusEventsQueueUrl: queue('test-pipeline-status-events.fifo'),
    },
    'test-catalyst-forge-pipeline-cluster-access': {
      KubernetesNamespace: 'forge',
      DispatcherRoleArn: role('DispatcherRole'),
      DiscoveryWorkerRoleArn: role('DiscoveryWorkerRole'),
      TaskWorkerRoleArn: role('TaskWorkerRole'),
      QueueScalerRoleArn: role('QueueScalerRole'),
    },
  };
}
