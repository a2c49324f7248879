/**
 * Names of the stack outputs the Kubernetes side is rendered from (`npm run manifests`), one
 * definition for the stacks that write them and the renderer that reads them. Every name is
 * unique across the app's stacks, so the outputs of all stacks merge into one map.
 */
export const StackOutput = {
  region: 'Region',
  namespace: 'KubernetesNamespace',
  discoveryQueueUrl: 'DiscoveryQueueUrl',
  tasksQueueUrl: 'TasksQueueUrl',
  artifactsQueueUrl: 'ArtifactsQueueUrl',
  releasesQueueUrl: 'ReleasesQueueUrl',
  discoveryDeadLetterQueueUrl: 'DiscoveryDeadLetterQueueUrl',
  tasksDeadLetterQueueUrl: 'TasksDeadLetterQueueUrl',
  artifactsDeadLetterQueueUrl: 'ArtifactsDeadLetterQueueUrl',
  releasesDeadLetterQueueUrl: 'ReleasesDeadLetterQueueUrl',
  jobsTableName: 'JobsTableName',
  jobsStreamArn: 'JobsStreamArn',
  resultsBucketName: 'ResultsBucketName',
  logsBucketName: 'LogsBucketName',
  stagingBucketName: 'StagingBucketName',
  buildkitTlsCaSecretArn: 'BuildkitTlsCaSecretArn',
  buildkitTlsCertSecretArn: 'BuildkitTlsCertSecretArn',
  buildkitTlsKeySecretArn: 'BuildkitTlsKeySecretArn',
  databaseSecretArn: 'DatabaseSecretArn',
  githubTokenSecretArn: 'GitHubTokenSecretArn',
  alarmTopicArn: 'AlarmTopicArn',
  dispatcherRoleArn: 'DispatcherRoleArn',
  discoveryWorkerRoleArn: 'DiscoveryWorkerRoleArn',
  taskWorkerRoleArn: 'TaskWorkerRoleArn',
  queueScalerRoleArn: 'QueueScalerRoleArn',
  apiUrl: 'ApiUrl',
  apiFunctionRoleArn: 'ApiFunctionRoleArn',
  workflowSubmittersGroup: 'WorkflowSubmittersGroup',
  statusEventsQueueUrl: 'StatusEventsQueueUrl',
} as const;
/** One of {@link StackOutput}. */
export type StackOutput = (typeof StackOutput)[keyof typeof StackOutput];

/** Kubernetes names the stacks and the rendered manifests share. */
export const KubernetesName = {
  dispatcherServiceAccount: 'forge-dispatcher',
  discoveryWorkerServiceAccount: 'forge-discovery-worker',
  taskWorkerServiceAccount: 'forge-task-worker',
  /** The group the API function's IAM role is mapped to in the cluster's access entries. */
  workflowSubmittersGroup: 'forge-workflow-submitters',
} as const;
