import type postgres from 'postgres';

/** A status event in the outbox: its run and its sequence within the run. */
export interface OutboxEventKey {
  readonly run_id: string;
  readonly sequence: string;
}

/**
 * Most events one statement deletes; more wait for the next. One call's events always go
 * together (a flush sends at most a few hundred).
 */
const MAX_KEYS_PER_DELETE = 1000;

/** The events one statement deletes, and the callers' promise of it. */
interface DeletionBatch {
  readonly keys: OutboxEventKey[];
  readonly deleted: Promise<void>;
}

/**
 * Deletes sent status events from the outbox, the events of many senders in one statement, as
 * a database groups commits: at most one delete is in flight, and the events sent meanwhile go
 * together in the next. A sender alone waits for no one (its delete starts at once); under load
 * the outbox costs a fraction of a statement per send instead of one. Each sender's promise
 * settles with the statement that deleted its events, so a failure still reaches every sender
 * it concerns (their events stay claimed, and are sent again once the claims lapse).
 */
export class StatusOutboxDeletions {
  readonly #sql: postgres.Sql;
  /** The batch still taking events: its statement has not started. */
  #open: DeletionBatch | undefined;
  /** Settles when the last batch started has finished, whatever its outcome. */
  #previous: Promise<unknown> = Promise.resolve();

  constructor(options: { readonly sql: postgres.Sql }) {
    this.#sql = options.sql;
  }

  /** Deletes `keys` with the next statement; resolves once it has run. */
  delete(keys: readonly OutboxEventKey[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    const open = this.#open;
    const batch =
      open === undefined || open.keys.length >= MAX_KEYS_PER_DELETE ? this.#openBatch() : open;
    batch.keys.push(...keys);
    return batch.deleted;
  }

  #openBatch(): DeletionBatch {
    const keys: OutboxEventKey[] = [];
    const deleted = this.#previous.then(async () => {
      // From here on, events join the next batch.
      if (this.#open?.keys === keys) this.#open = undefined;
      const runIdOfEach = keys.map((key) => key.run_id);
      const runIds = this.#sql.array([...new Set(runIdOfEach)]);
      // The `ANY` repeats the join's condition on the key's first column so that the planner
      // has an index path: on the join alone it scans the whole table, which a busy outbox
      // fills with dead rows between vacuums (one scan per batch took a tenth of Postgres's
      // time under load).
      await this.#sql`
        DELETE FROM status_event_outbox o
        USING unnest(${this.#sql.array(runIdOfEach)}::uuid[],
          ${this.#sql.array(keys.map((key) => key.sequence))}::bigint[]) AS sent (run_id, sequence)
        WHERE o.run_id = ANY(${runIds}::uuid[])
          AND o.run_id = sent.run_id AND o.sequence = sent.sequence`;
    });
    this.#previous = deleted.catch(() => undefined);
    this.#open = { keys, deleted };
    return this.#open;
  }
}
