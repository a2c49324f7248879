import type {
  AttributeValue as StreamAttributeValue,
  _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeMap,
  AttributeValue,
  JobStreamRecord,
  StreamEventName,
} from '../../core/contracts/job-stream.js';
import { JobPlaneOperationError } from '../../core/job-plane/job-plane-errors.js';

const EVENT_NAMES: ReadonlySet<string> = new Set<StreamEventName>(['INSERT', 'MODIFY', 'REMOVE']);

/**
 * Turns a record as `GetRecords` returns it into the record Lambda would deliver: the same
 * fields, `ApproximateCreationDateTime` in epoch seconds, `eventSourceARN` the stream's ARN.
 * Throws a `JobPlaneOperationError` for a record the job table cannot have produced (no
 * sequence number, an unknown event, binary attributes).
 */
export function toJobStreamRecord(record: StreamRecord, streamArn: string): JobStreamRecord {
  const change = record.dynamodb;
  const eventName = record.eventName;
  if (
    record.eventID === undefined ||
    eventName === undefined ||
    !EVENT_NAMES.has(eventName) ||
    change?.SequenceNumber === undefined
  ) {
    throw malformed(streamArn, `a stream record lacks its event or sequence number`);
  }
  const created = change.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: eventName,
    eventSource: 'aws:dynamodb',
    ...(record.eventVersion === undefined ? {} : { eventVersion: record.eventVersion }),
    ...(record.awsRegion === undefined ? {} : { awsRegion: record.awsRegion }),
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created === undefined
        ? {}
        : { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
      Keys: toAttributeMap(change.Keys ?? {}, streamArn),
      ...(change.NewImage === undefined
        ? {}
        : { NewImage: toAttributeMap(change.NewImage, streamArn) }),
      ...(change.OldImage === undefined
        ? {}
        : { OldImage: toAttributeMap(change.OldImage, streamArn) }),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes ?? 0,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

function toAttributeMap(
  item: Record<string, StreamAttributeValue>,
  streamArn: string,
): AttributeMap {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, toAttributeValue(value, streamArn)]),
  );
}

function toAttributeValue(value: StreamAttributeValue, streamArn: string): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.M !== undefined) return { M: toAttributeMap(value.M, streamArn) };
  if (value.L !== undefined)
    return { L: value.L.map((entry) => toAttributeValue(entry, streamArn)) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  throw malformed(streamArn, 'a stream record holds a binary or unknown attribute value');
}

function malformed(streamArn: string, reason: string): JobPlaneOperationError {
  return new JobPlaneOperationError('dynamodb-streams:GetRecords', streamArn, reason);
}
