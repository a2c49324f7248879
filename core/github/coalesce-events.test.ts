import { describe, expect, it } from 'vitest';
import { RunStatusEventSchema, type RunStatusEvent } from '../contracts/status-events.js';
import { commitKey, isNewerEvent, latestPerCommit } from './coalesce-events.js';

const RUN_A = '11111111-1111-4111-8111-111111111111';
const RUN_B = '22222222-2222-4222-8222-222222222222';
const SHA_1 = '1'.repeat(40);
const SHA_2 = '2'.repeat(40);

function event(overrides: Partial<RunStatusEvent>): RunStatusEvent {
  return RunStatusEventSchema.parse({
    run_id: RUN_A,
    repository: 'acme/widgets',
    commit_sha: SHA_1,
    point: 'created',
    run_status: 'pending',
    sequence: 0,
    groups_total: 0,
    groups_completed: 0,
    started_at: '2025-03-01T10:00:00.000Z',
    completed_at: null,
    target_url: null,
    github_context: {},
    failure: null,
    tasks: [],
    ...overrides,
  });
}

describe('latestPerCommit', () => {
  it('keeps the highest sequence of a run, whatever the arrival order', () => {
    const events = [3, 1, 4, 0, 2].map((sequence) => event({ sequence }));

    expect(latestPerCommit(events)).toEqual([events[2]]);
  });

  it('keeps the later started run of a commit (a re-run)', () => {
    const first = event({ sequence: 9 });
    const rerun = event({ run_id: RUN_B, sequence: 0, started_at: '2025-03-01T11:00:00.000Z' });

    expect(latestPerCommit([rerun, first])).toEqual([rerun]);
    expect(isNewerEvent(first, rerun)).toBe(false);
  });

  it('keeps one event per commit, commits in order of first appearance', () => {
    const second = event({ commit_sha: SHA_2, run_id: RUN_B });
    const firstOld = event({ sequence: 0 });
    const firstNew = event({ sequence: 1 });

    expect(latestPerCommit([second, firstOld, firstNew])).toEqual([second, firstNew]);
  });

  it('treats repository names without case, as GitHub does', () => {
    expect(commitKey(event({ repository: 'Acme/Widgets' }))).toBe(commitKey(event({})));
  });
});
