import type postgres from 'postgres';
import type { RunStatusEvent } from '../../core/contracts/status-events.js';
import type { SubmissionRecord } from '../../core/ports/run-repository.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';
import type { StatusOutboxDeletions } from './status-outbox-deletions.js';

/** Most events one flush sends; a longer queue is sent by the next calls. */
const FLUSH_LIMIT = 500;

/**
 * How long a flusher's claim on the events it takes keeps other flushers off them: far longer
 * than a send takes. Events of a flusher that died are sent again once it lapses.
 */
const CLAIM_SECONDS = 60;

/** Where a run's commit status links, from its id and its workflow's name. */
export type StatusTargetUrl = (run: {
  readonly id: string;
  readonly workflowName: string | null;
}) => string | null;

interface OutboxRow {
  run_id: string;
  sequence: string;
  event: RunStatusEvent;
  argo_workflow_name: string | null;
}

/** What the flushes work with: the pool, the deletions of sent events, and the status links. */
export interface StatusOutbox {
  readonly sql: postgres.Sql;
  readonly deletions: StatusOutboxDeletions;
  readonly targetUrl: StatusTargetUrl;
}

/** A row of {@link recordSubmissionAndFlush}: the run named, and one claimed event if any. */
interface SubmissionRow {
  named: string;
  run_id: string | null;
  sequence: string | null;
  event: RunStatusEvent | null;
  argo_workflow_name: string;
}

/**
 * Sends queued status events to `sink` and deletes them. One statement claims the events that
 * are queued and not claimed by another flusher (`SKIP LOCKED`, so concurrent flushers take
 * different events and never wait), answering each with its run's current workflow for
 * `target_url`; most calls find nothing and end there. The events are sent in run and sequence
 * order with no transaction open, then deleted (with other senders' events, see
 * {@link StatusOutboxDeletions}). A failing sink gives the claims back, so the
 * events stay queued for the next call, and throws; a flusher that dies leaves claims that
 * lapse, so delivery is at least once.
 */
export async function flushStatusOutbox(
  outbox: StatusOutbox,
  sink: StatusEventSink,
  runId: string | undefined,
): Promise<number> {
  const { sql } = outbox;
  const rows = await sql<OutboxRow[]>`
    WITH taken AS (
      SELECT run_id, sequence FROM status_event_outbox
      WHERE (claimed_until IS NULL OR claimed_until < now())
        ${runId === undefined ? sql`` : sql`AND run_id = ${runId}`}
      ORDER BY run_id, sequence
      LIMIT ${FLUSH_LIMIT}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE status_event_outbox o
    SET claimed_until = now() + ${CLAIM_SECONDS}::integer * interval '1 second'
    FROM taken
    WHERE o.run_id = taken.run_id AND o.sequence = taken.sequence
    RETURNING o.run_id, o.sequence, o.event,
      (SELECT argo_workflow_name FROM pipeline_runs r WHERE r.id = o.run_id)
        AS argo_workflow_name`;
  return sendClaimed(outbox, sink, rows);
}

/**
 * Records the workflow submitted for `runId` and claims the run's queued status events in ONE
 * statement (the claim as {@link flushStatusOutbox} makes it, the events' links naming the
 * new workflow), then sends and deletes them the same way: a new run's creation costs one
 * round trip fewer than recording the name and flushing one after the other. Returns how many
 * events were sent, or `undefined` when no run has the id. Once the statement has recorded the
 * name, a failure (of the sink, or of deleting what it accepted) is reported, not thrown: the
 * events not deleted are sent again once their claims lapse.
 */
export async function recordSubmissionAndFlush(
  outbox: StatusOutbox,
  sink: StatusEventSink,
  runId: string,
  workflowName: string,
): Promise<SubmissionRecord | undefined> {
  const { sql } = outbox;
  const rows = await sql<SubmissionRow[]>`
    WITH named AS (
      UPDATE pipeline_runs SET argo_workflow_name = ${workflowName}, updated_at = now()
      WHERE id = ${runId}
      RETURNING id
    ), taken AS (
      SELECT run_id, sequence FROM status_event_outbox
      WHERE (claimed_until IS NULL OR claimed_until < now()) AND run_id = ${runId}
      ORDER BY run_id, sequence
      LIMIT ${FLUSH_LIMIT}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE status_event_outbox o
      SET claimed_until = now() + ${CLAIM_SECONDS}::integer * interval '1 second'
      FROM taken
      WHERE o.run_id = taken.run_id AND o.sequence = taken.sequence
      RETURNING o.run_id, o.sequence, o.event
    )
    SELECT named.id AS named, claimed.run_id, claimed.sequence, claimed.event,
      ${workflowName}::text AS argo_workflow_name
    FROM named LEFT JOIN claimed ON true`;
  if (rows.length === 0) return undefined;
  const claimed = rows.flatMap(({ run_id, sequence, event, argo_workflow_name }) =>
    run_id === null || sequence === null || event === null
      ? []
      : [{ run_id, sequence, event, argo_workflow_name }],
  );
  try {
    return { sent: await sendClaimed(outbox, sink, claimed) };
  } catch (error) {
    return { sent: 0, sendFailure: error };
  }
}

/**
 * Sends claimed events in run and sequence order with no transaction open, then deletes them;
 * a failing sink gives the claims back and throws.
 */
async function sendClaimed(
  { sql, deletions, targetUrl }: StatusOutbox,
  sink: StatusEventSink,
  rows: readonly OutboxRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const ordered = [...rows].sort(inRunAndSequenceOrder);
  const taken = () => sql`
    unnest(${sql.array(ordered.map((row) => row.run_id))}::uuid[],
      ${sql.array(ordered.map((row) => row.sequence))}::bigint[]) AS taken (run_id, sequence)`;
  try {
    await sink.publish(
      ordered.map((row) => ({
        ...row.event,
        target_url: targetUrl({ id: row.run_id, workflowName: row.argo_workflow_name }),
      })),
    );
  } catch (error) {
    // Best effort: a claim that cannot be given back lapses by itself.
    await sql`
      UPDATE status_event_outbox o SET claimed_until = NULL FROM ${taken()}
      WHERE o.run_id = taken.run_id AND o.sequence = taken.sequence`.catch(() => undefined);
    throw error;
  }
  await deletions.delete(ordered);
  return rows.length;
}

function inRunAndSequenceOrder(left: OutboxRow, right: OutboxRow): number {
  if (left.run_id !== right.run_id) return left.run_id < right.run_id ? -1 : 1;
  return Number(left.sequence) - Number(right.sequence);
}
