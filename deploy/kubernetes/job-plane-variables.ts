import { StackOutput } from '../../stacks/stack-outputs.js';
import type { StackOutputs } from './stack-outputs.js';

/**
 * The environment every job-plane process on the cluster shares (dispatchers and both worker
 * pools): `FORGE_MODE=aws`, the region for the SDK, and the variables of
 * `config/job-plane-environment.ts` from the stack outputs. The stream ARN is set so that no
 * process needs `dynamodb:DescribeTable` to find it.
 */
export function jobPlaneVariables(outputs: StackOutputs): Record<string, string> {
  return {
    FORGE_MODE: 'aws',
    AWS_REGION: outputs[StackOutput.region],
    FORGE_QUEUE_URL_DISCOVERY: outputs[StackOutput.discoveryQueueUrl],
    FORGE_QUEUE_URL_TASKS: outputs[StackOutput.tasksQueueUrl],
    FORGE_QUEUE_URL_ARTIFACTS: outputs[StackOutput.artifactsQueueUrl],
    FORGE_QUEUE_URL_RELEASES: outputs[StackOutput.releasesQueueUrl],
    FORGE_DEAD_LETTER_QUEUE_URL_DISCOVERY: outputs[StackOutput.discoveryDeadLetterQueueUrl],
    FORGE_DEAD_LETTER_QUEUE_URL_TASKS: outputs[StackOutput.tasksDeadLetterQueueUrl],
    FORGE_DEAD_LETTER_QUEUE_URL_ARTIFACTS: outputs[StackOutput.artifactsDeadLetterQueueUrl],
    FORGE_DEAD_LETTER_QUEUE_URL_RELEASES: outputs[StackOutput.releasesDeadLetterQueueUrl],
    FORGE_JOBS_TABLE: outputs[StackOutput.jobsTableName],
    FORGE_JOBS_STREAM_ARN: outputs[StackOutput.jobsStreamArn],
    FORGE_RESULTS_BUCKET: outputs[StackOutput.resultsBucketName],
    FORGE_LOGS_BUCKET: outputs[StackOutput.logsBucketName],
    FORGE_STAGING_BUCKET: outputs[StackOutput.stagingBucketName],
  };
}
