import { describe, expect, it } from 'vitest';
import { commitKey, isNewerEvent, latestPerCommit } from './coalesce-events.js';
import { statusEvent } from './testing/status-event-fixture.js';

/** A second run, and a second commit, beside the fixture's. */
const RUN_B = '22222222-2222-4222-8222-222222222222';
const SHA_2 = '2'.repeat(40);

describe('latestPerCommit', () => {
  it('keeps the highest sequence of a run, whatever the arrival order', () => {
    const events = [3, 1, 4, 0, 2].map((sequence) => statusEvent({ sequence }));

    expect(latestPerCommit(events)).toEqual([events[2]]);
  });

  it('keeps the later started run of a commit (a re-run)', () => {
    const first = statusEvent({ sequence: 9 });
    const rerun = statusEvent({
      run_id: RUN_B,
      sequence: 0,
      started_at: '2025-03-01T11:00:00.000Z',
    });

    expect(latestPerCommit([rerun, first])).toEqual([rerun]);
    expect(isNewerEvent(first, rerun)).toBe(false);
  });

  it('keeps one event per commit, commits in order of first appearance', () => {
    const second = statusEvent({ commit_sha: SHA_2, run_id: RUN_B });
    const firstOld = statusEvent({ sequence: 0 });
    const firstNew = statusEvent({ sequence: 1 });

    expect(latestPerCommit([second, firstOld, firstNew])).toEqual([second, firstNew]);
  });

  it('treats repository names without case, as GitHub does', () => {
    expect(commitKey(statusEvent({ repository: 'Acme/Widgets' }))).toBe(commitKey(statusEvent()));
  });
});
