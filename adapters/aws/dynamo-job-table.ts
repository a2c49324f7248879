import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { JobRecordSchema, type JobRecord } from '../../core/contracts/jobs.js';
import { JobNotFoundError, JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';
import type { RetryOptions } from '../../core/retry.js';
import { ConditionNotMet, DynamoCalls } from './dynamo-calls.js';
import type { DynamoWrite } from './dynamo-job-writes.js';
import { JOBS_BY_RUN_INDEX } from './job-plane-resources.js';

/** Options of {@link DynamoJobTable}. */
export interface DynamoJobTableOptions {
  readonly tableName: string;
  /** The client the document client wraps; its owner destroys it. */
  readonly client: DynamoDBClient;
  /** Retries of throttled and 5xx calls. */
  readonly retry: RetryOptions;
  /** Sees every record read back from the table (the store learns step names from them). */
  readonly onRecord?: (record: JobRecord) => void;
}

/** The outcome of a conditional write: the record it wrote, or the record that failed it. */
export type ConditionalWrite =
  | { readonly written: true; readonly record: JobRecord }
  | { readonly written: false; readonly existing: JobRecord };

/**
 * The jobs table as `DynamoJobStore` uses it: job records in and out of items (every item read
 * is validated by the job record contract), and the four calls the store makes: a conditional
 * PutItem, a consistent GetItem, a Query of the `run_id` index, and a conditional UpdateItem
 * returning the item after it, or as it was when the condition failed. Every SDK error becomes
 * a `JobPlaneOperationError` naming the operation and the table (`DynamoCalls`).
 */
export class DynamoJobTable {
  readonly tableName: string;
  readonly #documents: DynamoDBDocumentClient;
  readonly #calls: DynamoCalls;
  readonly #onRecord: (record: JobRecord) => void;

  constructor(options: DynamoJobTableOptions) {
    this.tableName = options.tableName;
    this.#documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.#calls = new DynamoCalls(options.tableName, options.retry);
    this.#onRecord = options.onRecord ?? (() => undefined);
  }

  /**
   * Writes `record` unless its job id is taken (`attribute_not_exists(job_id)`); a refused
   * write returns the stored record from the failed condition, or reads it when the condition
   * returned none.
   */
  async putNew(record: JobRecord): Promise<ConditionalWrite> {
    try {
      await this.#calls.send('dynamodb:PutItem', () =>
        this.#documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: record,
            ConditionExpression: 'attribute_not_exists(job_id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { written: true, record };
    } catch (error) {
      if (!(error instanceof ConditionNotMet)) throw error;
      const existing =
        error.existing === undefined
          ? await this.get(record.job_id)
          : this.#parse('dynamodb:PutItem', error.existing);
      if (existing === undefined) {
        throw this.operationError('dynamodb:PutItem', 'condition failed on a missing job');
      }
      return { written: false, existing };
    }
  }

  /** A consistent read of one job. */
  async get(jobId: string): Promise<JobRecord | undefined> {
    const output = await this.#calls.send('dynamodb:GetItem', () =>
      this.#documents.send(
        new GetCommand({ TableName: this.tableName, Key: { job_id: jobId }, ConsistentRead: true }),
      ),
    );
    return output.Item === undefined ? undefined : this.#parse('dynamodb:GetItem', output.Item);
  }

  /** Reads the `run_id` index page by page; on AWS the index is eventually consistent. */
  async queryByRun(runId: string): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.#calls.send('dynamodb:Query', () =>
        this.#documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: JOBS_BY_RUN_INDEX,
            KeyConditionExpression: 'run_id = :run',
            ExpressionAttributeValues: { ':run': runId },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of output.Items ?? []) records.push(this.#parse('dynamodb:Query', item));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return records;
  }

  /**
   * Makes one conditional UpdateItem; a failed condition returns the record as it is. Throws
   * `JobNotFoundError` when there is no such job (the condition implies that it exists).
   */
  async update(jobId: string, write: DynamoWrite): Promise<ConditionalWrite> {
    try {
      const output = await this.#calls.send('dynamodb:UpdateItem', () =>
        this.#documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { job_id: jobId },
            UpdateExpression: write.update,
            ConditionExpression: write.condition,
            ...write.expression.attributes(),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { written: true, record: this.#parse('dynamodb:UpdateItem', output.Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionNotMet)) throw error;
      if (error.existing === undefined) throw new JobNotFoundError(jobId);
      return { written: false, existing: this.#parse('dynamodb:UpdateItem', error.existing) };
    }
  }

  /** A failure of `operation` on this table that a retry may get past. */
  operationError(operation: string, message: string): JobPlaneOperationError {
    return new JobPlaneOperationError(operation, this.tableName, message, { retryable: true });
  }

  /** Validates a stored item, and shows the record to `onRecord`. */
  #parse(operation: string, item: Record<string, unknown> | undefined): JobRecord {
    const parsed = JobRecordSchema.safeParse(item);
    if (parsed.success) {
      this.#onRecord(parsed.data);
      return parsed.data;
    }
    throw new JobPlaneOperationError(
      operation,
      this.tableName,
      `the stored job ${JSON.stringify(item?.['job_id'])} is not a valid job record: ${z.prettifyError(parsed.error)}`,
    );
  }
}
