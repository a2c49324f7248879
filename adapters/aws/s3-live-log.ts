/**
 * How a live log sits in S3 while its writer appends (see `S3LogAppender`): next to nothing at
 * `<key>`, and as segment objects `.live/<key>/<start>-<end>`, each holding the log's bytes
 * from offset `start` (inclusive) to `end` (exclusive), both zero-padded to 16 digits so that
 * names sort by offset. Segments may overlap while the writer merges small ones into larger
 * ones; a reader takes, from offset 0, the longest segment at each offset.
 *
 * The `.live/` prefix keeps segments out of every real key (keys never start with a dot) and
 * lets a bucket lifecycle rule remove the segments of writers that died before `close()`.
 */

/** The first segment of every live-log segment key. */
export const LIVE_LOG_ROOT = '.live/';

const OFFSET_DIGITS = 16;
const SEGMENT_NAME = /^(\d{16})-(\d{16})$/;

/** One segment object of a live log: bytes `[start, end)` of the log. */
export interface LiveLogSegment {
  readonly objectKey: string;
  readonly start: number;
  readonly end: number;
}

/** The prefix under which the segments of the log at `key` live. */
export function liveLogPrefix(key: string): string {
  return `${LIVE_LOG_ROOT}${key}/`;
}

/** The segment object holding bytes `[start, end)` of the log at `key`. */
export function liveLogSegment(key: string, start: number, end: number): LiveLogSegment {
  const name = `${padOffset(start)}-${padOffset(end)}`;
  return { objectKey: `${liveLogPrefix(key)}${name}`, start, end };
}

/** The segment named by `objectKey` under `prefix`; `undefined` for any other object. */
export function parseLiveLogSegment(prefix: string, objectKey: string): LiveLogSegment | undefined {
  if (!objectKey.startsWith(prefix)) return undefined;
  const match = SEGMENT_NAME.exec(objectKey.slice(prefix.length));
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  return end >= start ? { objectKey, start, end } : undefined;
}

/**
 * The segments that spell the log from offset 0 without gaps: at each offset the longest
 * segment starting there. `complete` is false when some listed segment reaches past the chain's
 * end, which means the listing caught the writer halfway through a change: read again.
 */
export function chainLiveLogSegments(segments: readonly LiveLogSegment[]): {
  readonly chain: LiveLogSegment[];
  readonly complete: boolean;
} {
  const longestAt = new Map<number, LiveLogSegment>();
  let furthest = 0;
  for (const segment of segments) {
    const known = longestAt.get(segment.start);
    if (known === undefined || segment.end > known.end) longestAt.set(segment.start, segment);
    furthest = Math.max(furthest, segment.end);
  }
  const chain: LiveLogSegment[] = [];
  let offset = 0;
  for (let next = longestAt.get(0); next !== undefined; next = longestAt.get(offset)) {
    chain.push(next);
    if (next.end === offset) break;
    offset = next.end;
  }
  return { chain, complete: chain.length > 0 && offset === furthest };
}

function padOffset(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}
