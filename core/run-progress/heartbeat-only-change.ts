import type { JobStreamRecord } from '../contracts/job-stream.js';

/**
 * The job record fields that no run progress rule reads: the running worker's `heartbeat_at`
 * and the record's `updated_at`. `applyJobRecord` reads the status, the start and end times,
 * the steps, the error, the owner and the result location, never these.
 */
export const PROGRESS_FREE_FIELDS: ReadonlySet<string> = new Set(['heartbeat_at', 'updated_at']);

/**
 * Whether a change record leaves everything the run progress rules read as it was: a MODIFY
 * whose old and new images differ at most in {@link PROGRESS_FREE_FIELDS}, as every heartbeat
 * of a running job does. Its new image applied over its old one changes nothing, and its old
 * image is the new image of the job's previous change record, so the reconciler skips it
 * before any database work. Compares the images as they come (attribute values, maps in any
 * key order), without decoding them; anything else (INSERT, REMOVE, a missing image, an
 * attribute kind a job record never has) is not heartbeat-only, and is applied as usual.
 */
export function isHeartbeatOnlyChange(record: JobStreamRecord): boolean {
  if (record.eventName !== 'MODIFY') return false;
  const { OldImage: oldImage, NewImage: newImage } = record.dynamodb;
  if (oldImage === undefined || newImage === undefined) return false;
  return sameAttributes(oldImage, newImage, PROGRESS_FREE_FIELDS);
}

/** Whether two attribute maps hold equal values under every name but `ignored`. */
function sameAttributes(left: unknown, right: unknown, ignored?: ReadonlySet<string>): boolean {
  if (!isObject(left) || !isObject(right)) return false;
  const names = new Set([...definedNames(left), ...definedNames(right)]);
  for (const name of names) {
    if (ignored?.has(name) === true) continue;
    if (!sameValue(left[name], right[name])) return false;
  }
  return true;
}

/** Whether two attribute values (`{S: ...}`, `{M: ...}`, ...) are equal. */
function sameValue(left: unknown, right: unknown): boolean {
  if (!isObject(left) || !isObject(right)) return false;
  const [kind, ...otherKinds] = definedNames(left);
  const [rightKind, ...otherRightKinds] = definedNames(right);
  if (kind === undefined || kind !== rightKind) return false;
  if (otherKinds.length > 0 || otherRightKinds.length > 0) return false;
  const leftValue = left[kind];
  const rightValue = right[kind];
  switch (kind) {
    case 'S':
    case 'N':
    case 'BOOL':
    case 'NULL':
      return leftValue === rightValue;
    case 'M':
      return sameAttributes(leftValue, rightValue);
    case 'L':
      return (
        Array.isArray(leftValue) &&
        Array.isArray(rightValue) &&
        leftValue.length === rightValue.length &&
        leftValue.every((item, index) => sameValue(item, rightValue[index]))
      );
    case 'SS':
    case 'NS':
      return sameStringSet(leftValue, rightValue);
    default:
      // Binary and other kinds never appear in a job record: not judged, so applied.
      return false;
  }
}

function sameStringSet(left: unknown, right: unknown): boolean {
  if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
  const members = new Set(left);
  return right.every((member) => members.has(member));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The names of the entries whose value is defined (a decoded SDK value may carry others). */
function definedNames(value: Record<string, unknown>): string[] {
  return Object.keys(value).filter((name) => value[name] !== undefined);
}
