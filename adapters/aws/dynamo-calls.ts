import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { retry, type RetryOptions } from '../../core/retry.js';
import { awsOperationError, hasErrorName } from './aws-operation.js';

/**
 * A conditional write found the item otherwise: `existing` is the item as the failed condition
 * returned it (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), absent when there is none.
 * Internal to the DynamoDB adapters; never leaves them.
 */
export class ConditionNotMet extends Error {
  constructor(readonly existing: Record<string, unknown> | undefined) {
    super('the condition of a conditional write was not met');
    this.name = 'ConditionNotMet';
  }
}

/**
 * Runs the SDK calls of one table: retries throttling, 5xx and network failures with the core
 * `retry` (core `isTransientError`: credential, permission and missing-table errors are 4xx and
 * never retried), turns a failed condition into {@link ConditionNotMet}, and every other
 * failure into a `JobPlaneOperationError` naming the operation and the table.
 */
export class DynamoCalls {
  constructor(
    private readonly resource: string,
    private readonly retryOptions: RetryOptions,
  ) {}

  /** Runs `call` (one SDK `send`) under the retry and error mapping of this table. */
  async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await retry(call, this.retryOptions);
    } catch (error) {
      if (hasErrorName(error, 'ConditionalCheckFailedException')) {
        const item = (error as { Item?: Record<string, AttributeValue> }).Item;
        throw new ConditionNotMet(item === undefined ? undefined : unmarshall(item));
      }
      throw awsOperationError(operation, this.resource, error);
    }
  }
}

/**
 * Builds the placeholders of an update or condition expression: every attribute name goes
 * through `#n<i>` (so reserved words such as `status` and any step name are safe) and every
 * value through `:v<i>`.
 */
export class UpdateExpressionBuilder {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, unknown> = {};
  private valueCount = 0;

  /** The placeholder of an attribute name (one per distinct name). */
  name(attribute: string): string {
    let placeholder = this.names.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#n${this.names.size}`;
      this.names.set(attribute, placeholder);
    }
    return placeholder;
  }

  /** The placeholder of a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.valueCount}`;
    this.valueCount += 1;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The `ExpressionAttributeNames` and `ExpressionAttributeValues` of the expressions built. */
  attributes(): {
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ExpressionAttributeNames: Object.fromEntries(
        [...this.names].map(([attribute, placeholder]) => [placeholder, attribute]),
      ),
      ...(this.valueCount === 0 ? {} : { ExpressionAttributeValues: this.values }),
    };
  }
}
