import type postgres from 'postgres';
import type { RunStatusEvent } from '../../core/contracts/status-events.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';

/** Most events one flush sends; a longer queue is sent by the next calls. */
const FLUSH_LIMIT = 500;

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

/**
 * Sends queued status events to `sink` and deletes them, in one transaction: the rows are
 * locked (`SKIP LOCKED`, so concurrent flushers take different events and never wait), sent in
 * run and sequence order with `target_url` filled in from the run's current workflow, and
 * deleted only if the sink accepted them. A failing sink leaves them queued and throws.
 */
export async function flushStatusOutbox(
  sql: postgres.Sql,
  sink: StatusEventSink,
  targetUrl: StatusTargetUrl,
  runId: string | undefined,
): Promise<number> {
  const scope = runId === undefined ? sql`` : sql`WHERE run_id = ${runId}`;
  // Most calls find nothing queued: one query answers them, without a transaction.
  const queued = await sql`SELECT 1 FROM status_event_outbox ${scope} LIMIT 1`;
  if (queued.length === 0) return 0;
  return sql.begin(async (transaction) => {
    const rows = await transaction<OutboxRow[]>`
      SELECT o.run_id, o.sequence, o.event, r.argo_workflow_name
      FROM status_event_outbox o JOIN pipeline_runs r ON r.id = o.run_id
      ${runId === undefined ? transaction`` : transaction`WHERE o.run_id = ${runId}`}
      ORDER BY o.run_id, o.sequence
      LIMIT ${FLUSH_LIMIT}
      FOR UPDATE OF o SKIP LOCKED`;
    if (rows.length === 0) return 0;
    const events = rows.map((row) => ({
      ...row.event,
      target_url: targetUrl({ id: row.run_id, workflowName: row.argo_workflow_name }),
    }));
    await sink.publish(events);
    await transaction`
      DELETE FROM status_event_outbox o
      USING unnest(${transaction.array(rows.map((row) => row.run_id))}::uuid[],
                   ${transaction.array(rows.map((row) => row.sequence))}::bigint[])
        AS sent (run_id, sequence)
      WHERE o.run_id = sent.run_id AND o.sequence = sent.sequence`;
    return rows.length;
  });
}
