import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import { DynamoJobStore } from '../../adapters/aws/dynamo-job-store.js';
import { DynamoStreamPoller } from '../../adapters/aws/dynamo-stream-poller.js';
import { createBucket, createJobsTable } from '../../adapters/aws/job-plane-resources.js';
import { S3BlobStore } from '../../adapters/aws/s3-blob-store.js';
import type { JobStreamRecord } from '../../core/contracts/job-stream.js';
import { discoveryJobId } from '../../core/contracts/jobs.js';
import { isHeartbeatOnlyChange } from '../../core/run-progress/heartbeat-only-change.js';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import { StreamReconciler } from '../../functions/reconcile/stream-reconciler.js';
import { localAwsClientConfig, uniqueResourceName } from '../support/local-aws.js';
import { useTestDatabase } from '../support/postgres-database.js';
import { createSampleRun, RecordingStatusEventSink } from '../support/postgres-run-fixtures.js';
import { driveSampleRun, waitForRun } from './sample-run-driver.js';

const database = useTestDatabase();
const dynamodb = new DynamoDBClient(sdkClientConfig(localAwsClientConfig('dynamodb')));
const s3 = new S3Client({ ...sdkClientConfig(localAwsClientConfig('s3')), forcePathStyle: true });

afterAll(() => {
  dynamodb.destroy();
  s3.destroy();
});

describe('StreamReconciler over DynamoDB Local', () => {
  it('reconciles a whole run from the jobs table stream, through the stream poller', async (context) => {
    // Arrange
    const tableName = uniqueResourceName('jobs');
    const streamArn = await createJobsTable(dynamodb, tableName);
    context.onTestFinished(async () => {
      await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    });
    const bucket = uniqueResourceName('forge-results');
    await createBucket(s3, bucket);
    const results = new S3BlobStore({ client: s3, bucket });
    const jobs = new DynamoJobStore({ tableName, client: dynamodb });
    const runs = new PostgresRunRepository({ sql: database.current.sql });
    const sink = new RecordingStatusEventSink();
    const reconciler = new StreamReconciler({ runs, results, sink });
    const poller = new DynamoStreamPoller({
      streamArn,
      clientConfig: localAwsClientConfig('dynamodb'),
      pollIntervalMs: 20,
      batchSize: 1000,
      delivery: { maxAttempts: 3, backoff: { baseDelayMs: 10, maxDelayMs: 50, jitterMs: 0 } },
    });
    const run = await createSampleRun(runs);
    context.onTestFinished(poller.subscribe(reconciler.handleBatch));

    // Act
    await driveSampleRun(jobs, results, run.id, { releaseEnabled: true });
    const detail = await waitForRun(runs, run.id, (current) => current.completedAt !== null);
    for (let wait = 0; wait < 100 && sink.eventsOf(run.id).length < 5; wait += 1) {
      await delay(50);
    }

    // Assert
    expect(detail.status).toBe('success');
    expect(detail.phases.flatMap((phase) => phase.tasks.map((task) => task.status))).toEqual([
      'success',
      'success',
      'success',
      'success',
    ]);
    expect(detail.phases[0]?.tasks[0]?.steps.map((step) => [step.name, step.exitCode])).toEqual([
      ['compile', 0],
      ['vet', 0],
    ]);
    expect(detail.releases).toMatchObject([{ project: 'api', status: 'success' }]);
    expect(sink.eventsOf(run.id).map((event) => event.point)).toEqual([
      'created',
      'discovered',
      'group_completed',
      'group_completed',
      'completed',
    ]);
  });

  it('tells the heartbeats in DynamoDB Streams images from the changes of a job', async (context) => {
    // Arrange
    const tableName = uniqueResourceName('jobs');
    const streamArn = await createJobsTable(dynamodb, tableName);
    context.onTestFinished(async () => {
      await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    });
    const jobs = new DynamoJobStore({ tableName, client: dynamodb });
    const poller = new DynamoStreamPoller({
      streamArn,
      clientConfig: localAwsClientConfig('dynamodb'),
      pollIntervalMs: 20,
      batchSize: 1000,
    });
    const records: JobStreamRecord[] = [];
    context.onTestFinished(
      poller.subscribe((event) => {
        records.push(...event.Records);
        return Promise.resolve();
      }),
    );
    const jobId = discoveryJobId('run-heartbeats');

    // Act
    await jobs.create({ job_id: jobId, run_id: 'run-heartbeats', type: 'discovery' });
    await jobs.claim(jobId, { workerId: 'discovery-1', heartbeatTimeoutMs: 60_000 });
    await jobs.heartbeat(jobId, 'discovery-1');
    await jobs.heartbeat(jobId, 'discovery-1');
    await jobs.transition(jobId, 'completed');
    for (let wait = 0; wait < 200 && records.length < 5; wait += 1) await delay(25);

    // Assert
    expect(records.map((record) => [record.eventName, isHeartbeatOnlyChange(record)])).toEqual([
      ['INSERT', false],
      ['MODIFY', false],
      ['MODIFY', true],
      ['MODIFY', true],
      ['MODIFY', false],
    ]);
  });
});
