import { z } from 'zod';
import { QueueName } from '../core/job-plane/queue-settings.js';
import { durationSeconds } from '../core/duration.js';
import { parseEnvironment } from './environment.js';

const booleanText = z.enum(['true', 'false']).transform((text) => text === 'true');
const queueUrl = z.url({ protocol: /^https?$/ });

/**
 * The `FORGE_` variables of the job plane on AWS (or its emulators); docs/configuration.md
 * documents each one. `forge-pipeline emulators` prints them for the local emulators.
 */
export const AwsJobPlaneEnvironmentSchema = z.object({
  FORGE_QUEUE_URL_DISCOVERY: queueUrl,
  FORGE_QUEUE_URL_TASKS: queueUrl,
  FORGE_QUEUE_URL_ARTIFACTS: queueUrl,
  FORGE_QUEUE_URL_RELEASES: queueUrl,
  FORGE_DEAD_LETTER_QUEUE_URL_DISCOVERY: queueUrl.optional(),
  FORGE_DEAD_LETTER_QUEUE_URL_TASKS: queueUrl.optional(),
  FORGE_DEAD_LETTER_QUEUE_URL_ARTIFACTS: queueUrl.optional(),
  FORGE_DEAD_LETTER_QUEUE_URL_RELEASES: queueUrl.optional(),
  FORGE_JOBS_TABLE: z.string().min(3).default('pipeline-jobs'),
  FORGE_JOBS_STREAM_ARN: z.string().startsWith('arn:').optional(),
  FORGE_RESULTS_BUCKET: z.string().min(3),
  FORGE_LOGS_BUCKET: z.string().min(3),
  FORGE_STAGING_BUCKET: z.string().min(3),
  FORGE_S3_FORCE_PATH_STYLE: booleanText.default(false),
  FORGE_SECRETS_CACHE_TTL: durationSeconds.default(300),
});

/** The AWS job plane's settings, as the factory takes them. */
export interface AwsJobPlaneConfig {
  readonly queueUrls: Readonly<Record<QueueName, string>>;
  readonly deadLetterQueueUrls: Readonly<Partial<Record<QueueName, string>>>;
  readonly jobsTable: string;
  readonly jobsStreamArn?: string | undefined;
  readonly buckets: { readonly results: string; readonly logs: string; readonly staging: string };
  readonly s3ForcePathStyle: boolean;
  readonly secretsCacheMs: number;
}

/** Reads the AWS job plane's variables once; a missing or bad one is a `ConfigurationError`. */
export function loadAwsJobPlaneConfig(env: NodeJS.ProcessEnv = process.env): AwsJobPlaneConfig {
  const parsed = parseEnvironment(AwsJobPlaneEnvironmentSchema, env);
  const byQueue = <T>(pick: (name: Uppercase<QueueName>) => T) =>
    Object.fromEntries(
      Object.values(QueueName).map((name) => [
        name,
        pick(name.toUpperCase() as Uppercase<QueueName>),
      ]),
    ) as Record<QueueName, T>;
  const deadLetters = byQueue((name) => parsed[`FORGE_DEAD_LETTER_QUEUE_URL_${name}`]);
  return {
    queueUrls: byQueue((name) => parsed[`FORGE_QUEUE_URL_${name}`]),
    deadLetterQueueUrls: Object.fromEntries(
      Object.entries(deadLetters).filter(([, url]) => url !== undefined),
    ),
    jobsTable: parsed.FORGE_JOBS_TABLE,
    jobsStreamArn: parsed.FORGE_JOBS_STREAM_ARN,
    buckets: {
      results: parsed.FORGE_RESULTS_BUCKET,
      logs: parsed.FORGE_LOGS_BUCKET,
      staging: parsed.FORGE_STAGING_BUCKET,
    },
    s3ForcePathStyle: parsed.FORGE_S3_FORCE_PATH_STYLE,
    secretsCacheMs: parsed.FORGE_SECRETS_CACHE_TTL * 1000,
  };
}
