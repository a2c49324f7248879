import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { GitHubContextSchema, type GitHubContext } from '../../core/contracts/api.js';
import { StatusPoint } from '../../core/contracts/status-events.js';
import type { CreateRunResult, NewRun } from '../../core/ports/run-repository.js';
import { RunProgressDraft } from '../../core/run-progress/run-progress-draft.js';
import {
  RepositoryNotRegisteredError,
  RunStoreOperationError,
} from '../../core/run-progress/run-progress-errors.js';
import { buildRunStatusEvent } from '../../core/run-progress/run-status-facts.js';
import { RunStatus } from '../../core/statuses.js';
import { isoTimeSql, RUN_COLUMNS_SQL, toPipelineRun, type RunRow } from './postgres-run-rows.js';

/** The statement's answer: the repository, if registered, and the run, if this call made it. */
type InsertedRow = Omit<RunRow, 'id'> & { id: string | null; repository_id: string };

/**
 * Creates a run idempotently on (repository, commit) in ONE statement, so a new run costs one
 * round trip and one commit: the repository is looked up, the run inserted (`ON CONFLICT DO
 * NOTHING`, so concurrent identical requests make one run), and with it, only when it was
 * inserted, its audit entry and its `created` status event (sequence 1; the event's
 * `started_at` is the row's own, set by the database's clock like every other time).
 *
 * When the commit has a run already, that run is read by a second statement: the first one's
 * snapshot predates a concurrent creator's commit. Throws `RepositoryNotRegisteredError`.
 */
export async function insertRun(sql: postgres.Sql, run: NewRun): Promise<CreateRunResult> {
  const id = randomUUID();
  const githubContext = run.github_context ?? GitHubContextSchema.parse({});
  const event = createdEvent(id, run.repository, run.commit_sha, githubContext);
  const [row] = await sql<InsertedRow[]>`
    WITH repo AS (
      SELECT id, full_name, clone_url FROM repositories WHERE full_name = ${run.repository}
    ), r AS (
      INSERT INTO pipeline_runs (id, repository_id, branch, tag, commit_sha, triggered_by,
        trigger_type, github_context, status_event_sequence)
      SELECT ${id}::uuid, repo.id, ${run.branch ?? null}, ${run.tag ?? null}, ${run.commit_sha},
        ${run.triggeredBy}, ${run.trigger_type}, ${sql.json(githubContext)}, 1
      FROM repo
      ON CONFLICT (repository_id, commit_sha) DO NOTHING
      RETURNING *
    ), audited AS (
      INSERT INTO audit_log (entity_type, entity_id, run_id, from_status, to_status, actor,
        details)
      SELECT 'run', r.id, r.id, NULL, r.status, ${run.triggeredBy},
        ${sql.json({ trigger_type: run.trigger_type, commit_sha: run.commit_sha })}
      FROM r
    ), announced AS (
      INSERT INTO status_event_outbox (run_id, sequence, event)
      SELECT r.id, 1, jsonb_set(${sql.json(event)}::jsonb, '{started_at}',
        to_jsonb(${sql.unsafe(isoTimeSql('r.started_at'))}))
      FROM r
    )
    SELECT ${sql.unsafe(RUN_COLUMNS_SQL)}, repo.id AS repository_id
    FROM repo LEFT JOIN r ON true`;
  if (row === undefined) throw new RepositoryNotRegisteredError(run.repository);
  if (row.id !== null) return { created: true, run: toPipelineRun({ ...row, id: row.id }) };
  const [existing] = await sql<RunRow[]>`
    SELECT ${sql.unsafe(RUN_COLUMNS_SQL)}
    FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
    WHERE r.repository_id = ${row.repository_id} AND r.commit_sha = ${run.commit_sha}`;
  if (existing === undefined) {
    throw new RunStoreOperationError('create a run', 'the run it conflicted with is gone');
  }
  return { created: false, run: toPipelineRun(existing) };
}

/** The `created` event of a new run, by the core rules (a pending run with no plan yet). */
function createdEvent(
  runId: string,
  repository: string,
  commitSha: string,
  githubContext: GitHubContext,
) {
  const draft = new RunProgressDraft(
    {
      run: {
        id: runId,
        repository,
        commitSha,
        status: RunStatus.pending,
        // Replaced by the row's own start time in the statement.
        startedAt: new Date(0).toISOString(),
        completedAt: null,
        discoveredAt: null,
        materialised: false,
        githubContext,
        error: null,
      },
      phases: [],
      tasks: [],
      steps: [],
      releases: [],
    },
    { now: new Date(0) },
  );
  return buildRunStatusEvent(draft, StatusPoint.created, 1);
}
