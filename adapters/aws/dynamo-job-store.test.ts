import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskJobId } from '../../core/contracts/jobs.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import {
  CONTRACT_DELIVERY,
  describeJobChangeFeedContract,
} from '../../test/contracts/job-change-feed.contract.js';
import { describeJobStoreContract } from '../../test/contracts/job-store.contract.js';
import { localAwsClientConfig, uniqueResourceName } from '../../test/support/local-aws.js';
import { sdkClientConfig } from './aws-client-config.js';
import { DynamoJobStore } from './dynamo-job-store.js';
import { DynamoStreamPoller } from './dynamo-stream-poller.js';
import { createJobsTable } from './job-plane-resources.js';

const dynamodb = new DynamoDBClient(sdkClientConfig(localAwsClientConfig('dynamodb')));

afterAll(() => {
  dynamodb.destroy();
});

/** A fresh jobs table for one suite, deleted after it; returns its name and stream ARN. */
function useJobsTable(): { readonly tableName: string; readonly streamArn: string } {
  const table = { tableName: uniqueResourceName('jobs'), streamArn: '' };
  beforeAll(async () => {
    table.streamArn = await createJobsTable(dynamodb, table.tableName);
  });
  afterAll(async () => {
    await dynamodb.send(new DeleteTableCommand({ TableName: table.tableName }));
  });
  return table;
}

describe('DynamoJobStore on DynamoDB Local', () => {
  const table = useJobsTable();

  describeJobStoreContract('DynamoJobStore', () =>
    Promise.resolve({
      store: new DynamoJobStore({ tableName: table.tableName, client: dynamodb }),
      cleanup: () => Promise.resolve(),
    }),
  );
});

describe('DynamoStreamPoller on DynamoDB Local', () => {
  const table = useJobsTable();

  describeJobChangeFeedContract('DynamoStreamPoller over DynamoJobStore', () => {
    const feed = new DynamoStreamPoller({
      streamArn: table.streamArn,
      clientConfig: localAwsClientConfig('dynamodb'),
      pollIntervalMs: 20,
      batchSize: 1000,
      delivery: CONTRACT_DELIVERY,
    });
    return Promise.resolve({
      store: new DynamoJobStore({ tableName: table.tableName, client: dynamodb }),
      feed,
      cleanup: () => feed.stop(),
    });
  });
});

describe('DynamoJobStore on DynamoDB Local, beyond the contract', () => {
  const table = useJobsTable();

  it('refuses to hand out a stored item that is not a valid job record', async () => {
    const store = new DynamoJobStore({ tableName: table.tableName, client: dynamodb });
    const jobId = taskJobId('run-corrupt', 'build', 'api');
    await DynamoDBDocumentClient.from(dynamodb).send(
      new PutCommand({
        TableName: table.tableName,
        Item: { job_id: jobId, run_id: 'run-corrupt', status: 'lost' },
      }),
    );

    const read = store.get(jobId);

    await expect(read).rejects.toThrow(JobPlaneOperationError);
    await expect(read).rejects.toThrow(/dynamodb:GetItem on jobs-.* is not a valid job record/);
  });

  it('names the operation and the table when the table does not exist', async () => {
    const store = new DynamoJobStore({ tableName: 'missing-table', client: dynamodb });

    const read = store.get(taskJobId('run-1', 'build', 'api'));

    await expect(read).rejects.toMatchObject({
      operation: 'dynamodb:GetItem',
      resource: 'missing-table',
      retryable: false,
    });
  });

  it('makes and closes its own client when given none; closing twice is harmless', async () => {
    const store = new DynamoJobStore({
      tableName: table.tableName,
      clientConfig: localAwsClientConfig('dynamodb'),
    });
    const jobId = taskJobId('run-own-client', 'build', 'api');

    const created = await store.create({ job_id: jobId, run_id: 'run-own-client', type: 'task' });
    await store.close();
    await store.close();

    expect(created.created).toBe(true);
  });
});
