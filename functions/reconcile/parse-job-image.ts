import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import type { JobStreamRecord } from '../../core/contracts/job-stream.js';
import { JobRecordSchema, type JobRecord } from '../../core/contracts/jobs.js';
import { JobImageError } from './reconcile-errors.js';

/**
 * The job record a change record's new image holds (NEW_AND_OLD_IMAGES), validated by the job
 * record contract; `undefined` for a `REMOVE` (a record expiring by TTL changes no run). Throws
 * a {@link JobImageError} for an image that is missing or is not a job record.
 */
export function parseJobImage(record: JobStreamRecord): JobRecord | undefined {
  if (record.eventName === 'REMOVE') return undefined;
  const image = record.dynamodb.NewImage;
  if (image === undefined) throw new JobImageError(record.eventID, 'it has no new image');
  let item: Record<string, unknown>;
  try {
    item = unmarshall(image as Record<string, SdkAttributeValue>);
  } catch (error) {
    throw new JobImageError(
      record.eventID,
      error instanceof Error ? error.message : 'unreadable attributes',
    );
  }
  const parsed = JobRecordSchema.safeParse(item);
  if (!parsed.success) {
    throw new JobImageError(record.eventID, z.prettifyError(parsed.error).replaceAll('\n', ' '));
  }
  return parsed.data;
}
