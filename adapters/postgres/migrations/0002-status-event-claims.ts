import type { Migration } from './migration.js';

/**
 * Status events are claimed, not locked, while they are sent: a flusher marks the events it
 * takes with `claimed_until`, sends them with no transaction open, then deletes them. Another
 * flusher skips claimed events until the claim lapses, so an event whose sender died is sent
 * again later (delivery stays at least once) and no connection waits on the sink.
 */
export const statusEventClaims: Migration = {
  version: 2,
  name: 'status event claims',
  sql: /* sql */ `
ALTER TABLE status_event_outbox ADD COLUMN claimed_until timestamptz;
`,
};
