import type { z } from 'zod';
import { RunStatusEventSchema, type RunStatusEvent } from '../../contracts/status-events.js';

/*
 * Run status events for the tests of GitHub reporting: the unit tests beside this folder and
 * the fan-out, sink and handler tests under test/github. Every event is checked against the
 * contract, so a test never feeds the code an event a producer could not send.
 */

/** The run most tests report on. */
export const RUN_ID = '3f1c9a52-6f0e-4b7a-9d55-0d7c2b1e4a10';
/** Its repository. */
export const REPOSITORY = 'acme/widgets';
/** Its commit. */
export const COMMIT_SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';

/** Fields of an event as a producer writes them: any subset, defaults not yet applied. */
export type StatusEventFields = Partial<z.input<typeof RunStatusEventSchema>>;

/**
 * A valid `RunStatusEvent` of run {@link RUN_ID} on {@link COMMIT_SHA}, created and not yet
 * discovered, with `overrides` applied (and checked against the contract).
 */
export function statusEvent(overrides: StatusEventFields = {}): RunStatusEvent {
  return RunStatusEventSchema.parse({
    run_id: RUN_ID,
    repository: REPOSITORY,
    commit_sha: COMMIT_SHA,
    point: 'created',
    run_status: 'pending',
    sequence: 0,
    groups_total: 0,
    groups_completed: 0,
    started_at: '2025-03-01T10:00:00.000Z',
    completed_at: null,
    target_url: `https://argo.example.com/workflows/forge/${RUN_ID}`,
    github_context: { context: 'ci/catalyst-forge' },
    failure: null,
    tasks: [],
    ...overrides,
  });
}

/** The events of a successful run in order: created, discovered (3 groups), 3 groups done. */
export function successfulRunEvents(overrides: StatusEventFields = {}): RunStatusEvent[] {
  const base = { groups_total: 3, ...overrides };
  return [
    statusEvent({ ...base, groups_total: 0, sequence: 0 }),
    statusEvent({ ...base, point: 'discovered', run_status: 'running', sequence: 1 }),
    statusEvent({
      ...base,
      point: 'group_completed',
      run_status: 'running',
      sequence: 2,
      groups_completed: 1,
    }),
    statusEvent({
      ...base,
      point: 'group_completed',
      run_status: 'running',
      sequence: 3,
      groups_completed: 2,
    }),
    statusEvent({
      ...base,
      point: 'completed',
      run_status: 'success',
      sequence: 4,
      groups_completed: 3,
      completed_at: '2025-03-01T10:03:25.400Z',
    }),
  ];
}
