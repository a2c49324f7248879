import { describe, expect, it } from 'vitest';
import { loadAwsJobPlaneConfig } from './job-plane-environment.js';

const complete = {
  FORGE_QUEUE_URL_DISCOVERY: 'https://sqs.eu-west-1.amazonaws.com/1/forge-discovery.fifo',
  FORGE_QUEUE_URL_TASKS: 'https://sqs.eu-west-1.amazonaws.com/1/forge-tasks.fifo',
  FORGE_QUEUE_URL_ARTIFACTS: 'https://sqs.eu-west-1.amazonaws.com/1/forge-artifacts.fifo',
  FORGE_QUEUE_URL_RELEASES: 'https://sqs.eu-west-1.amazonaws.com/1/forge-releases.fifo',
  FORGE_DEAD_LETTER_QUEUE_URL_TASKS: 'https://sqs.eu-west-1.amazonaws.com/1/forge-tasks-dlq.fifo',
  FORGE_RESULTS_BUCKET: 'forge-results',
  FORGE_LOGS_BUCKET: 'forge-logs',
  FORGE_STAGING_BUCKET: 'forge-staging',
};

describe('loadAwsJobPlaneConfig', () => {
  it('reads queues, table, buckets and defaults', () => {
    const config = loadAwsJobPlaneConfig({ ...complete, FORGE_SECRETS_CACHE_TTL: '2m' });

    expect(config.queueUrls.tasks).toBe(complete.FORGE_QUEUE_URL_TASKS);
    expect(config.deadLetterQueueUrls).toEqual({
      tasks: complete.FORGE_DEAD_LETTER_QUEUE_URL_TASKS,
    });
    expect(config.jobsTable).toBe('pipeline-jobs');
    expect(config.jobsStreamArn).toBeUndefined();
    expect(config.buckets.logs).toBe('forge-logs');
    expect(config.s3ForcePathStyle).toBe(false);
    expect(config.secretsCacheMs).toBe(120_000);
  });

  it('names a missing variable', () => {
    const { FORGE_QUEUE_URL_TASKS: _missing, ...incomplete } = complete;

    expect(() => loadAwsJobPlaneConfig(incomplete)).toThrow(/^FORGE_QUEUE_URL_TASKS: /);
  });

  it('names a malformed variable', () => {
    expect(() => loadAwsJobPlaneConfig({ ...complete, FORGE_S3_FORCE_PATH_STYLE: 'yes' })).toThrow(
      /^FORGE_S3_FORCE_PATH_STYLE: /,
    );
  });
});
