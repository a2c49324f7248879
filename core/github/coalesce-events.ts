import type { RunStatusEvent } from '../contracts/status-events.js';

/** The commit an event reports on: GitHub statuses belong to a repository's commit. */
export function commitKey(event: RunStatusEvent): string {
  return `${event.repository.toLowerCase()}@${event.commit_sha}`;
}

/**
 * Whether `candidate` is newer news for its commit than `current`: of one run, the higher
 * `sequence`; of two runs (a re-run of the commit), the later started one, ties broken by run
 * id so every process decides alike.
 */
export function isNewerEvent(candidate: RunStatusEvent, current: RunStatusEvent): boolean {
  if (candidate.run_id === current.run_id) return candidate.sequence > current.sequence;
  const candidateStart = Date.parse(candidate.started_at);
  const currentStart = Date.parse(current.started_at);
  if (candidateStart !== currentStart) return candidateStart > currentStart;
  return candidate.run_id > current.run_id;
}

/**
 * The newest event of each commit in `events` (see {@link isNewerEvent}), in the order the
 * commits first appear. Each event carries the run's whole state, so the newest one says all
 * that GitHub needs; the others are superseded.
 */
export function latestPerCommit(events: readonly RunStatusEvent[]): RunStatusEvent[] {
  const latest = new Map<string, RunStatusEvent>();
  for (const event of events) {
    const key = commitKey(event);
    const current = latest.get(key);
    if (current === undefined || isNewerEvent(event, current)) latest.set(key, event);
  }
  return [...latest.values()];
}
