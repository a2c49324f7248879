/**
 * The change records of the `pipeline-jobs` table, shaped exactly like DynamoDB Streams
 * records as Lambda delivers them, so one reconciler handler serves Lambda, the stream poller
 * over DynamoDB Local, and the embedded job store's change feed.
 */

/** A value in DynamoDB's attribute-value form. */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Readonly<Record<string, AttributeValue>> }
  | { readonly L: readonly AttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] };

/** An item in attribute-value form. */
export type AttributeMap = Readonly<Record<string, AttributeValue>>;

/** What happened to an item. */
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** One change of one job record (a Lambda `DynamoDBRecord`, NEW_AND_OLD_IMAGES). */
export interface JobStreamRecord {
  readonly eventID: string;
  readonly eventName: StreamEventName;
  readonly eventSource: 'aws:dynamodb';
  readonly eventVersion?: string;
  readonly awsRegion?: string;
  readonly eventSourceARN?: string;
  readonly dynamodb: {
    readonly Keys: AttributeMap;
    readonly NewImage?: AttributeMap;
    readonly OldImage?: AttributeMap;
    /** Orders the changes of one item; increases within a shard. */
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: 'NEW_AND_OLD_IMAGES';
    readonly ApproximateCreationDateTime?: number;
  };
}

/** A batch of changes (a Lambda `DynamoDBStreamEvent`). */
export interface JobStreamEvent {
  readonly Records: readonly JobStreamRecord[];
}

/**
 * What a batch handler answers (Lambda's partial batch response): the records it could not
 * apply, by `eventID`; the poller retries from the first of them.
 */
export interface StreamBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/** A handler of change batches: the reconciler, in production and embedded alike. */
export type StreamBatchHandler = (event: JobStreamEvent) => Promise<StreamBatchResponse | void>;
