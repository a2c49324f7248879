import { describe, expect, it } from 'vitest';
import type {
  AttributeMap,
  AttributeValue,
  JobStreamRecord,
  StreamEventName,
} from '../contracts/job-stream.js';
import type { JobRecord } from '../contracts/jobs.js';
import { isHeartbeatOnlyChange } from './heartbeat-only-change.js';
import { at, buildApi, discovered, job, reconcile } from './testing/sample-run.js';

/** A value in attribute-value form, as a stream image carries it. */
function attributeOf(value: unknown): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(attributeOf) };
  if (typeof value === 'object' && value !== null) return { M: imageOf(value) };
  return { NULL: true };
}

function imageOf(record: object): AttributeMap {
  return Object.fromEntries(
    Object.entries(record)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, attributeOf(value)]),
  );
}

function change(
  oldRecord: JobRecord | undefined,
  newRecord: JobRecord | undefined,
  eventName: StreamEventName = 'MODIFY',
): JobStreamRecord {
  return {
    eventID: 'event-1',
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { job_id: { S: buildApi } },
      ...(oldRecord === undefined ? {} : { OldImage: imageOf(oldRecord) }),
      ...(newRecord === undefined ? {} : { NewImage: imageOf(newRecord) }),
      SequenceNumber: '1',
      SizeBytes: 1,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const compileRunning = {
  status: 'running',
  started_at: at(3),
  log_key: 'logs/compile.log',
} as const;

/** The build/api task running under `w1` with its compile step running, beat at minute 4. */
const running = job(buildApi, {
  status: 'running',
  worker_id: 'w1',
  started_at: at(3),
  updated_at: at(3),
  heartbeat_at: at(4),
  steps: { compile: compileRunning },
});

describe('isHeartbeatOnlyChange', () => {
  it('recognises a heartbeat, with or without a new updated_at, and a write that changed nothing', () => {
    const beat = { ...running, heartbeat_at: at(5) };
    const beatAndStamp = { ...beat, updated_at: at(5) };

    expect(isHeartbeatOnlyChange(change(running, beat))).toBe(true);
    expect(isHeartbeatOnlyChange(change(running, beatAndStamp))).toBe(true);
    expect(isHeartbeatOnlyChange(change(running, running))).toBe(true);
  });

  it('does not depend on the order of attributes in the images', () => {
    const beat = change(running, { ...running, heartbeat_at: at(5) });
    const reordered: JobStreamRecord = {
      ...beat,
      dynamodb: {
        ...beat.dynamodb,
        NewImage: Object.fromEntries(Object.entries(beat.dynamodb.NewImage ?? {}).reverse()),
      },
    };

    expect(isHeartbeatOnlyChange(reordered)).toBe(true);
  });

  it('sees every change of what the progress rules read, however deep', () => {
    const changes: JobRecord[] = [
      { ...running, status: 'completed', completed_at: at(6) },
      { ...running, steps: { compile: { ...compileRunning, status: 'success' } } },
      { ...running, steps: { ...running.steps, vet: { status: 'running' } } },
      { ...running, error: 'step compile failed' },
      { ...running, worker_id: 'w2', heartbeat_at: at(9) },
      { ...running, cancel_requested: true },
    ];
    const { worker_id: _owner, heartbeat_at: _beat, ...released } = running;

    const verdicts = [...changes, released].map((next) =>
      isHeartbeatOnlyChange(change(running, next)),
    );

    expect(verdicts).toEqual(changes.map(() => false).concat(false));
  });

  it('judges only a MODIFY with both images', () => {
    const beat = { ...running, heartbeat_at: at(5) };

    expect(isHeartbeatOnlyChange(change(undefined, running, 'INSERT'))).toBe(false);
    expect(isHeartbeatOnlyChange(change(running, undefined, 'REMOVE'))).toBe(false);
    expect(isHeartbeatOnlyChange(change(undefined, beat))).toBe(false);
    expect(isHeartbeatOnlyChange(change(running, undefined))).toBe(false);
  });

  it('sees a changed number, and never skips an attribute kind a job record lacks', () => {
    const withBinary = (bytes: string): JobStreamRecord => {
      const record = change(running, running);
      const binary = { B: bytes } as unknown as AttributeValue;
      return {
        ...record,
        dynamodb: {
          ...record.dynamodb,
          OldImage: { ...record.dynamodb.OldImage, blob: binary },
          NewImage: { ...record.dynamodb.NewImage, blob: binary },
        },
      };
    };

    expect(isHeartbeatOnlyChange(change(running, { ...running, ttl: 2 }))).toBe(false);
    expect(isHeartbeatOnlyChange(withBinary('AAEC'))).toBe(false);
  });

  it('skips only changes whose new image, applied after the old one, changes no run', () => {
    // Arrange: the progress after the old image, and after the old then the new one.
    const beat = { ...running, heartbeat_at: at(8), updated_at: at(8) };
    const history = [discovered, running];

    // Act
    const afterOld = reconcile(history);
    const afterNew = reconcile([...history, beat]);

    // Assert
    expect(isHeartbeatOnlyChange(change(running, beat))).toBe(true);
    expect(afterNew.snapshot).toEqual(afterOld.snapshot);
    expect(afterNew.points).toEqual(afterOld.points);
  });
});
