import { z } from 'zod';
import { ForgeError } from '../../core/errors.js';
import { StackOutput } from '../../stacks/stack-outputs.js';

const url = z.url({ protocol: /^https$/ });
const arn = z.string().startsWith('arn:');
const name = z.string().min(1);

/** The stack outputs the Kubernetes side is rendered from, as `sst deploy` writes them. */
export const StackOutputsSchema = z.object({
  [StackOutput.region]: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'),
  [StackOutput.namespace]: name,
  [StackOutput.discoveryQueueUrl]: url,
  [StackOutput.tasksQueueUrl]: url,
  [StackOutput.artifactsQueueUrl]: url,
  [StackOutput.releasesQueueUrl]: url,
  [StackOutput.discoveryDeadLetterQueueUrl]: url,
  [StackOutput.tasksDeadLetterQueueUrl]: url,
  [StackOutput.artifactsDeadLetterQueueUrl]: url,
  [StackOutput.releasesDeadLetterQueueUrl]: url,
  [StackOutput.jobsTableName]: name,
  [StackOutput.jobsStreamArn]: arn,
  [StackOutput.resultsBucketName]: name,
  [StackOutput.logsBucketName]: name,
  [StackOutput.stagingBucketName]: name,
  [StackOutput.buildkitTlsCaSecretArn]: arn,
  [StackOutput.buildkitTlsCertSecretArn]: arn,
  [StackOutput.buildkitTlsKeySecretArn]: arn,
  [StackOutput.dispatcherRoleArn]: arn,
  [StackOutput.discoveryWorkerRoleArn]: arn,
  [StackOutput.taskWorkerRoleArn]: arn,
  [StackOutput.queueScalerRoleArn]: arn,
  [StackOutput.workflowSubmittersGroup]: name,
});
/** The validated stack outputs. */
export type StackOutputs = z.infer<typeof StackOutputsSchema>;

/** The stack outputs file is missing values or is not the file `sst deploy` writes. */
export class StackOutputsError extends ForgeError {}

/**
 * Reads the outputs `sst deploy` writes to `.sst/outputs.json` (`{"<stack>": {"Name": "value"}}`),
 * or one flat `{"Name": "value"}` map: the stacks' outputs are merged (their names are unique
 * across stacks) and validated. A missing or malformed output is a {@link StackOutputsError}
 * naming it.
 */
export function parseStackOutputs(json: unknown): StackOutputs {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new StackOutputsError('stack outputs: expected a JSON object of stack outputs');
  }
  const entries = Object.entries(json as Record<string, unknown>);
  const perStack = entries.every(([, value]) => typeof value === 'object' && value !== null);
  const merged: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (perStack) Object.assign(merged, value as Record<string, unknown>);
    else merged[key] = value;
  }
  const parsed = StackOutputsSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new StackOutputsError(
    `stack outputs: ${String(issue?.path[0] ?? 'outputs')}: ${issue?.message ?? 'invalid'}`,
  );
}
