import { spawnCommand } from '../support/run-command.js';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';

describe('forge-pipeline emulators', () => {
  it('starts the emulators with the job plane, prints the variables, and stops on SIGTERM', async () => {
    const child = spawnCommand('forge-pipeline', ['emulators', '--prefix', 'cli-test'], {});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('emulators ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early (${code}): ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await ready;
      const variables = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((line) => /^export ([A-Z0-9_]+)=(.*)$/.exec(line)?.slice(1, 3) as [string, string]),
      );
      const clientConfig = (endpoint: string | undefined) => ({
        endpoint,
        region: variables.AWS_REGION,
        credentials: {
          accessKeyId: variables.AWS_ACCESS_KEY_ID as string,
          secretAccessKey: variables.AWS_SECRET_ACCESS_KEY as string,
        },
      });
      const sqs = new SQSClient(clientConfig(variables.AWS_ENDPOINT_URL_SQS));
      const dynamodb = new DynamoDBClient(clientConfig(variables.AWS_ENDPOINT_URL_DYNAMODB));

      const queue = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: variables.FORGE_QUEUE_URL_TASKS,
          AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
        }),
      );
      const table = await dynamodb.send(
        new DescribeTableCommand({ TableName: variables.FORGE_JOBS_TABLE }),
      );

      expect(variables.FORGE_MODE).toBe('aws');
      expect(new URL(variables.AWS_ENDPOINT_URL_DYNAMODB as string).hostname).toBe('127.0.0.1');
      expect(queue.Attributes?.VisibilityTimeout).toBe('1800');
      expect(JSON.parse(queue.Attributes?.RedrivePolicy ?? '{}')).toMatchObject({
        maxReceiveCount: 3,
      });
      expect(table.Table?.StreamSpecification?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
      expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('run_id-index');
      sqs.destroy();
      dynamodb.destroy();
    } finally {
      child.kill('SIGTERM');
    }

    expect(await exited).toBe(0);
    expect(stderr).toContain('emulators stopped');
  });
});
