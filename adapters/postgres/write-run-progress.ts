import type postgres from 'postgres';
import type { StatusPoint } from '../../core/contracts/status-events.js';
import { ProgressEntity, type StatusChange } from '../../core/run-progress/progress-changes.js';
import type { RunProgressDraft } from '../../core/run-progress/run-progress-draft.js';
import { RunProgressError } from '../../core/run-progress/run-progress-errors.js';
import { buildRunStatusEvent } from '../../core/run-progress/run-status-facts.js';
import { stepKey, type RunSnapshot } from '../../core/run-progress/run-snapshot.js';

/** Most rows one multi-row INSERT carries (Postgres takes at most 65,535 parameters). */
const INSERT_CHUNK = 1000;

/**
 * Writes what a draft changed, inside the caller's transaction (which holds the run's row
 * lock): the run's own fields, new phases, tasks, steps and releases (in that order, so each
 * finds its parent's id), changed rows, one audit entry per status change, and one queued
 * status event per point crossed, numbered on from the run's counter.
 */
export async function writeRunProgress(
  sql: postgres.TransactionSql,
  loaded: RunSnapshot,
  draft: RunProgressDraft,
  events: { readonly points: readonly StatusPoint[]; readonly sequenceBefore: number },
): Promise<void> {
  const changes = draft.changes();
  const runId = changes.run.id;
  const ids = new IdIndex(loaded);
  ids.set(ProgressEntity.run, runId, runId);

  for (const rows of chunks(changes.inserted.phases)) {
    const inserted = await sql<{ id: string; phase_name: string }[]>`
      INSERT INTO phase_executions ${sql(
        rows.map((phase) => ({
          run_id: runId,
          phase_name: phase.name,
          group_number: phase.group,
          status: phase.status,
          started_at: date(phase.startedAt),
          completed_at: date(phase.completedAt),
        })),
      )}
      RETURNING id, phase_name`;
    for (const row of inserted) ids.set(ProgressEntity.phase, row.phase_name, row.id);
  }
  for (const rows of chunks(changes.inserted.tasks)) {
    const inserted = await sql<{ id: string; job_id: string }[]>`
      INSERT INTO task_executions ${sql(
        rows.map((task) => ({
          phase_id: ids.require(ProgressEntity.phase, task.phase),
          run_id: runId,
          project_name: task.project,
          project_path: task.projectPath,
          job_id: task.jobId,
          status: task.status,
          started_at: date(task.startedAt),
          completed_at: date(task.completedAt),
          error: task.error,
        })),
      )}
      RETURNING id, job_id`;
    for (const row of inserted) ids.set(ProgressEntity.task, row.job_id, row.id);
  }
  for (const rows of chunks(changes.inserted.steps)) {
    const inserted = await sql<{ id: string; task_id: string; step_name: string }[]>`
      INSERT INTO step_executions ${sql(
        rows.map((step) => ({
          task_id: ids.require(ProgressEntity.task, step.jobId),
          run_id: runId,
          step_name: step.name,
          position: step.position,
          action: step.action,
          target: step.target,
          run_command: step.run,
          status: step.status,
          exit_code: step.exitCode,
          logs_key: step.logsKey,
          started_at: date(step.startedAt),
          completed_at: date(step.completedAt),
          error: step.error,
        })),
      )}
      RETURNING id, task_id, step_name`;
    const jobIds = ids.jobIdsByTaskId();
    for (const row of inserted) {
      ids.set(ProgressEntity.step, stepKey(jobIds.get(row.task_id) ?? '', row.step_name), row.id);
    }
  }
  for (const rows of chunks(changes.inserted.releases)) {
    const inserted = await sql<{ id: string; job_id: string }[]>`
      INSERT INTO release_executions ${sql(
        rows.map((release) => ({
          run_id: runId,
          project_name: release.project,
          job_id: release.jobId,
          status: release.status,
          started_at: date(release.startedAt),
          completed_at: date(release.completedAt),
          error: release.error,
        })),
      )}
      RETURNING id, job_id`;
    for (const row of inserted) ids.set(ProgressEntity.release, row.job_id, row.id);
  }

  await Promise.all([
    ...changes.updated.phases.map(
      (phase) => sql`
        UPDATE phase_executions SET status = ${phase.status},
          started_at = ${date(phase.startedAt)}, completed_at = ${date(phase.completedAt)},
          updated_at = now()
        WHERE id = ${ids.require(ProgressEntity.phase, phase.name)}`,
    ),
    ...changes.updated.tasks.map(
      (task) => sql`
        UPDATE task_executions SET status = ${task.status},
          started_at = ${date(task.startedAt)}, completed_at = ${date(task.completedAt)},
          error = ${task.error}, updated_at = now()
        WHERE id = ${ids.require(ProgressEntity.task, task.jobId)}`,
    ),
    ...changes.updated.steps.map(
      (step) => sql`
        UPDATE step_executions SET status = ${step.status}, exit_code = ${step.exitCode},
          logs_key = ${step.logsKey}, started_at = ${date(step.startedAt)},
          completed_at = ${date(step.completedAt)}, error = ${step.error}, updated_at = now()
        WHERE id = ${ids.require(ProgressEntity.step, stepKey(step.jobId, step.name))}`,
    ),
    ...changes.updated.releases.map(
      (release) => sql`
        UPDATE release_executions SET status = ${release.status},
          started_at = ${date(release.startedAt)}, completed_at = ${date(release.completedAt)},
          error = ${release.error}, updated_at = now()
        WHERE id = ${ids.require(ProgressEntity.release, release.jobId)}`,
    ),
  ]);

  const sequence = events.sequenceBefore + events.points.length;
  if (changes.runChanged || events.points.length > 0) {
    const run = changes.run;
    await sql`
      UPDATE pipeline_runs SET status = ${run.status}, completed_at = ${date(run.completedAt)},
        discovered_at = ${date(run.discoveredAt)},
        ${
          changes.discoveryOutput === undefined
            ? sql``
            : sql`discovery_output = ${sql.json(changes.discoveryOutput as postgres.JSONValue)},`
        }
        error = ${run.error}, status_event_sequence = ${sequence}, updated_at = now()
      WHERE id = ${runId}`;
  }
  await insertAuditEntries(sql, runId, changes.statusChanges, ids);
  for (const [index, point] of events.points.entries()) {
    const number = events.sequenceBefore + index + 1;
    const event = buildRunStatusEvent(draft, point, number);
    await sql`
      INSERT INTO status_event_outbox (run_id, sequence, event)
      VALUES (${runId}, ${number}, ${sql.json(event)})`;
  }
}

async function insertAuditEntries(
  sql: postgres.TransactionSql,
  runId: string,
  changes: readonly StatusChange[],
  ids: IdIndex,
): Promise<void> {
  for (const rows of chunks(changes)) {
    await sql`
      INSERT INTO audit_log ${sql(
        rows.map((change) => ({
          entity_type: change.entity,
          entity_id: ids.require(change.entity, change.key),
          run_id: runId,
          from_status: change.from,
          to_status: change.to,
          actor: change.actor,
          details: sql.json(change.details as postgres.JSONValue),
        })),
      )}`;
  }
}

/** Database ids by entity and natural key: those loaded, then those of inserted rows. */
class IdIndex {
  readonly #ids = new Map<string, string>();

  constructor(loaded: RunSnapshot) {
    for (const phase of loaded.phases) this.#put(ProgressEntity.phase, phase.name, phase.id);
    for (const task of loaded.tasks) this.#put(ProgressEntity.task, task.jobId, task.id);
    for (const step of loaded.steps) {
      this.#put(ProgressEntity.step, stepKey(step.jobId, step.name), step.id);
    }
    for (const release of loaded.releases) {
      this.#put(ProgressEntity.release, release.jobId, release.id);
    }
  }

  set(entity: ProgressEntity, key: string, id: string): void {
    this.#ids.set(`${entity}:${key}`, id);
  }

  require(entity: ProgressEntity, key: string): string {
    const id = this.#ids.get(`${entity}:${key}`);
    if (id === undefined) throw new RunProgressError(`no ${entity} ${key} in this run`);
    return id;
  }

  /** Job ids by task id, for steps, whose insert only returns their task's id. */
  jobIdsByTaskId(): Map<string, string> {
    const byTaskId = new Map<string, string>();
    for (const [key, id] of this.#ids) {
      if (key.startsWith(`${ProgressEntity.task}:`)) {
        byTaskId.set(id, key.slice(ProgressEntity.task.length + 1));
      }
    }
    return byTaskId;
  }

  #put(entity: ProgressEntity, key: string, id: string | undefined): void {
    if (id !== undefined) this.set(entity, key, id);
  }
}

function* chunks<T>(rows: readonly T[]): Generator<T[]> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    yield rows.slice(start, start + INSERT_CHUNK);
  }
}

function date(time: string | null): Date | null {
  return time === null ? null : new Date(time);
}
