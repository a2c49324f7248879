import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresRunRepository } from '../../adapters/postgres/postgres-run-repository.js';
import {
  StatusOutboxDeletions,
  type OutboxEventKey,
} from '../../adapters/postgres/status-outbox-deletions.js';
import { useTestDatabase } from '../support/postgres-database.js';
import { randomCommitSha, uniqueRepositoryName } from '../support/postgres-run-fixtures.js';

const database = useTestDatabase();

/** A pool of its own that reports every DELETE it sends, as it sends it. */
let sql: postgres.Sql;
let onDelete: () => void = () => undefined;
const deletes: string[] = [];

beforeAll(() => {
  sql = postgres(database.current.url, {
    max: 2,
    onnotice: () => undefined,
    debug: (_connection, query) => {
      if (!query.trimStart().startsWith('DELETE')) return;
      deletes.push(query);
      onDelete();
    },
  });
});

afterAll(async () => {
  await sql.end({ timeout: 5 });
});

/** A new run with `count` events queued in its outbox; answers their keys. */
async function queuedEvents(count: number): Promise<OutboxEventKey[]> {
  const runs = new PostgresRunRepository({ sql });
  const repository = uniqueRepositoryName();
  await runs.registerRepository(repository, `https://github.com/${repository}.git`);
  const { run } = await runs.createRun({
    repository,
    commit_sha: randomCommitSha(),
    branch: 'main',
    trigger_type: 'push',
    triggeredBy: 'test',
  });
  // Creation queued event 1; the rest follow it.
  await sql`
    INSERT INTO status_event_outbox (run_id, sequence, event)
    SELECT ${run.id}::uuid, n, '{}'::jsonb FROM generate_series(2, ${count}::integer) AS n`;
  return Array.from({ length: count }, (_, index) => ({
    run_id: run.id,
    sequence: String(index + 1),
  }));
}

async function queuedSequences(runId: string): Promise<string[]> {
  const rows = await sql<{ sequence: string }[]>`
    SELECT sequence FROM status_event_outbox WHERE run_id = ${runId} ORDER BY sequence`;
  return rows.map((row) => row.sequence);
}

describe('StatusOutboxDeletions', () => {
  it('deletes a lone sender’s events at once, and groups those sent while a delete runs', async () => {
    // Arrange: three more senders arrive while the first one's statement is on its way.
    const [first, ...others] = await queuedEvents(4);
    const deletions = new StatusOutboxDeletions({ sql });
    deletes.length = 0;
    let later: Promise<void>[] = [];
    let firstDeleted = false;
    let firstDeletedBeforeTheNext: boolean | undefined;
    onDelete = () => {
      onDelete = () => {
        onDelete = () => undefined;
        firstDeletedBeforeTheNext = firstDeleted;
      };
      later = others.map((key) => deletions.delete([key]));
    };

    // Act
    await deletions.delete([first as OutboxEventKey]).then(() => {
      firstDeleted = true;
    });
    await Promise.all(later);

    // Assert: two statements, the second only once the first had run.
    expect(later).toHaveLength(3);
    expect(deletes).toHaveLength(2);
    expect(firstDeletedBeforeTheNext).toBe(true);
    expect(await queuedSequences((first as OutboxEventKey).run_id)).toEqual([]);
  });

  it('fails every sender of a failed statement, and deletes the next batch all the same', async () => {
    // Arrange: a key Postgres refuses spoils its statement.
    const [kept, deleted] = await queuedEvents(2);
    const deletions = new StatusOutboxDeletions({ sql });
    const spoiled = [
      deletions.delete([kept as OutboxEventKey]),
      deletions.delete([{ run_id: 'not a uuid', sequence: '1' }]),
    ];

    // Act
    const outcomes = await Promise.allSettled(spoiled);
    await deletions.delete([deleted as OutboxEventKey]);

    // Assert
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await queuedSequences((kept as OutboxEventKey).run_id)).toEqual(['1']);
  });

  it('answers at once when there is nothing to delete', async () => {
    // Arrange
    const deletions = new StatusOutboxDeletions({ sql });
    deletes.length = 0;

    // Act
    await deletions.delete([]);

    // Assert
    expect(deletes).toEqual([]);
  });
});
