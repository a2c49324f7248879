import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskJobId, type JobRecord } from '../../core/contracts/jobs.js';
import { newJobRecord } from '../../core/job-plane/job-record-changes.js';
import { JobNotFoundError, JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import { DynamoJobStore } from './dynamo-job-store.js';
import { JOBS_BY_RUN_INDEX } from './job-plane-resources.js';

const TABLE = 'pipeline-jobs-test';
const runId = 'run-1';
const jobId = taskJobId(runId, 'build', 'api');
const pending: JobRecord = newJobRecord(
  { job_id: jobId, run_id: runId, type: 'task' },
  new Date('2026-01-01T00:00:00.000Z'),
);

const documents = mockClient(DynamoDBDocumentClient);
let client: DynamoDBClient;
let retriesSeen: number;

/** A store whose retries wait for nothing, counting them. */
function makeStore(options: { maxConflicts?: number } = {}): DynamoJobStore {
  return new DynamoJobStore({
    tableName: TABLE,
    client,
    retry: { maxAttempts: 4, sleep: () => Promise.resolve(), onRetry: () => (retriesSeen += 1) },
    ...options,
  });
}

function serviceError(name: string, httpStatusCode: number, message = name) {
  return new DynamoDBServiceException({
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
    message,
  });
}

beforeEach(() => {
  documents.reset();
  client = new DynamoDBClient({ region: 'us-east-1' });
  retriesSeen = 0;
});

afterEach(() => {
  client.destroy();
});

describe('DynamoJobStore retries what may pass', () => {
  it('retries ProvisionedThroughputExceededException, then reads the job', async () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    documents
      .on(GetCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves({ Item: pending });

    const read = await makeStore().get(jobId);

    expect(read).toEqual(pending);
    expect(documents.commandCalls(GetCommand)).toHaveLength(3);
    expect(retriesSeen).toBe(2);
  });

  it('retries ThrottlingException, then records the job', async () => {
    documents
      .on(PutCommand)
      .rejectsOnce(
        new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
      )
      .resolves({});

    const result = await makeStore().create({ job_id: jobId, run_id: runId, type: 'task' });

    expect(result.created).toBe(true);
    expect(documents.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('retries 5xx answers, then applies the transition', async () => {
    documents.on(GetCommand).resolves({ Item: pending });
    documents
      .on(UpdateCommand)
      .rejectsOnce(
        new InternalServerError({
          message: 'Internal server error',
          $metadata: { httpStatusCode: 500 },
        }),
      )
      .rejectsOnce(serviceError('ServiceUnavailable', 503))
      .resolves({ Attributes: { ...pending, status: 'running' } });

    const result = await makeStore().transition(jobId, 'running');

    expect(result).toMatchObject({ outcome: 'applied', record: { status: 'running' } });
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(3);
  });

  it('gives up after the last attempt with a retryable error naming operation and table', async () => {
    documents.on(QueryCommand).rejects(serviceError('InternalServerError', 500));

    const listing = makeStore().listByRun(runId);

    await expect(listing).rejects.toBeInstanceOf(JobPlaneOperationError);
    await expect(listing).rejects.toMatchObject({
      operation: 'dynamodb:Query',
      resource: TABLE,
      retryable: true,
      message: expect.stringContaining(`dynamodb:Query on ${TABLE} failed: InternalServerError`),
    });
    expect(documents.commandCalls(QueryCommand)).toHaveLength(4);
  });
});

describe('DynamoJobStore surfaces what no retry fixes at once', () => {
  it('names the operation and the table of a missing table', async () => {
    documents.on(GetCommand).rejects(
      new ResourceNotFoundException({
        message: 'Requested resource not found',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const read = makeStore().get(jobId);

    await expect(read).rejects.toMatchObject({
      name: 'JobPlaneOperationError',
      operation: 'dynamodb:GetItem',
      resource: TABLE,
      retryable: false,
      message: expect.stringContaining('ResourceNotFoundException'),
    });
    expect(documents.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('surfaces AccessDeniedException on the first attempt', async () => {
    documents
      .on(UpdateCommand)
      .rejects(serviceError('AccessDeniedException', 400, 'not authorized'));

    const cancel = makeStore().requestCancel(jobId);

    await expect(cancel).rejects.toMatchObject({
      operation: 'dynamodb:UpdateItem',
      resource: TABLE,
      retryable: false,
    });
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(retriesSeen).toBe(0);
  });

  it.each([
    [
      'an expired token',
      serviceError(
        'ExpiredTokenException',
        400,
        'The security token included in the request is expired',
      ),
    ],
    [
      'unavailable credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    ],
  ])('never retries %s', async (_, error) => {
    documents.on(PutCommand).rejects(error);

    const create = makeStore().create({ job_id: jobId, run_id: runId, type: 'task' });

    await expect(create).rejects.toMatchObject({ operation: 'dynamodb:PutItem', retryable: false });
    expect(documents.commandCalls(PutCommand)).toHaveLength(1);
  });
});

describe('DynamoJobStore conditional writes', () => {
  it('returns the existing record from the failed submission condition, without a read', async () => {
    const running = { ...pending, status: 'running' };
    documents.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        Item: marshall(running),
      }),
    );

    const result = await makeStore().create({ job_id: jobId, run_id: runId, type: 'task' });

    expect(result).toEqual({ created: false, existing: running });
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('decides again from the record a lost race returns, and gives up after maxConflicts', async () => {
    documents.on(GetCommand).resolves({ Item: pending });
    // Every write loses to another writer that leaves the job pending with a new step.
    documents.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        Item: marshall({ ...pending, steps: { compile: { status: 'running' } } }),
      }),
    );

    const update = makeStore({ maxConflicts: 3 }).updateStep(jobId, 'lint', { status: 'running' });

    await expect(update).rejects.toMatchObject({
      operation: 'dynamodb:UpdateItem',
      retryable: true,
    });
    const calls = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.ConditionExpression).toContain('attribute_not_exists');
    expect(calls[1]?.UpdateExpression).toMatch(/^SET #n0\.#n\d+ = :v\d+, /);
    expect(Object.values(calls[1]?.ExpressionAttributeNames ?? {})).toEqual(
      expect.arrayContaining(['steps', 'lint']),
    );
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers JobNotFoundError when the job vanished between read and write', async () => {
    documents.on(GetCommand).resolves({ Item: pending });
    documents.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(makeStore().transition(jobId, 'running')).rejects.toThrow(JobNotFoundError);
  });
});

describe('DynamoJobStore queries', () => {
  it('reads every page of the run index', async () => {
    const second = { ...pending, job_id: taskJobId(runId, 'build', 'web') };
    documents
      .on(QueryCommand)
      .resolvesOnce({ Items: [second], LastEvaluatedKey: { job_id: second.job_id, run_id: runId } })
      .resolvesOnce({ Items: [pending] });

    const jobs = await makeStore().listByRun(runId);

    expect(jobs.map((job) => job.job_id)).toEqual([jobId, second.job_id]);
    const inputs = documents.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toMatchObject({
      IndexName: JOBS_BY_RUN_INDEX,
      ExpressionAttributeValues: { ':run': runId },
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual({ job_id: second.job_id, run_id: runId });
  });
});
