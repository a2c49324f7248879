import { GitHubContextSchema } from '../../core/contracts/api.js';
import type {
  PhaseState,
  ReleaseState,
  RunSnapshot,
  StepState,
  TaskState,
} from '../../core/run-progress/run-snapshot.js';
import { isoTimeSql, RUN_COLUMNS_SQL, type Queryable, type RunRow } from './postgres-run-rows.js';

/** A run's row, its snapshot for the progress rules, and its status event counter. */
export interface LoadedRun {
  readonly row: RunRow;
  readonly snapshot: RunSnapshot;
  readonly statusEventSequence: number;
}

/** What {@link loadRunSnapshot} reads besides the run and its executions. */
export interface LoadRunOptions {
  /** Take the run's row lock first (inside a transaction): progress changes are serialised. */
  readonly lock: boolean;
  /** Read the discovery output too (the run's detail); the progress rules never need it. */
  readonly discoveryOutput: boolean;
}

/**
 * The phases, tasks, steps and releases of run `r`, each as a JSON array of rows already in
 * the core's shapes (field names, ISO times), so that the whole run is one statement and no
 * row needs mapping. Unordered: the draft orders rows itself (sorting by text in SQL costs
 * more than the rest).
 */
const EXECUTIONS_SQL = `
  (SELECT coalesce(json_agg(json_build_object(
      'id', p.id, 'name', p.phase_name, 'group', p.group_number, 'status', p.status,
      'startedAt', ${isoTimeSql('p.started_at')},
      'completedAt', ${isoTimeSql('p.completed_at')})), '[]')
    FROM phase_executions p WHERE p.run_id = r.id) AS phases,
  (SELECT coalesce(json_agg(json_build_object(
      'id', t.id, 'jobId', t.job_id, 'phase', p.phase_name, 'group', p.group_number,
      'project', t.project_name, 'projectPath', t.project_path, 'status', t.status,
      'startedAt', ${isoTimeSql('t.started_at')},
      'completedAt', ${isoTimeSql('t.completed_at')}, 'error', t.error)), '[]')
    FROM task_executions t JOIN phase_executions p ON p.id = t.phase_id
    WHERE t.run_id = r.id) AS tasks,
  (SELECT coalesce(json_agg(json_build_object(
      'id', s.id, 'jobId', t.job_id, 'name', s.step_name, 'position', s.position,
      'action', s.action, 'target', s.target, 'run', s.run_command, 'status', s.status,
      'exitCode', s.exit_code, 'logsKey', s.logs_key,
      'startedAt', ${isoTimeSql('s.started_at')},
      'completedAt', ${isoTimeSql('s.completed_at')}, 'error', s.error)), '[]')
    FROM step_executions s JOIN task_executions t ON t.id = s.task_id
    WHERE s.run_id = r.id) AS steps,
  (SELECT coalesce(json_agg(json_build_object(
      'id', x.id, 'jobId', x.job_id, 'project', x.project_name, 'status', x.status,
      'startedAt', ${isoTimeSql('x.started_at')},
      'completedAt', ${isoTimeSql('x.completed_at')}, 'error', x.error)), '[]')
    FROM release_executions x WHERE x.run_id = r.id) AS releases`;

type SnapshotRow = RunRow & {
  phases: PhaseState[];
  tasks: TaskState[];
  steps: StepState[];
  releases: ReleaseState[];
};

/**
 * Loads a run and everything below it in ONE statement (one consistent snapshot, no
 * transaction needed for a read). With `lock`, the run's row is locked by a statement of its
 * own first: a statement that waited for the lock would still read the executions as they were
 * before the holder committed, so they are read after the lock is held.
 */
export async function loadRunSnapshot(
  sql: Queryable,
  runId: string,
  options: LoadRunOptions,
): Promise<LoadedRun | undefined> {
  if (options.lock) {
    const locked = await sql`SELECT 1 FROM pipeline_runs WHERE id = ${runId} FOR UPDATE`;
    if (locked.length === 0) return undefined;
  }
  const [row] = await sql<SnapshotRow[]>`
    SELECT ${sql.unsafe(RUN_COLUMNS_SQL)},
      ${options.discoveryOutput ? sql`r.discovery_output,` : sql``}
      ${sql.unsafe(EXECUTIONS_SQL)}
    FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
    WHERE r.id = ${runId}`;
  if (row === undefined) return undefined;
  const { phases, tasks, steps, releases, ...run } = row;
  return {
    row: run,
    statusEventSequence: Number(run.status_event_sequence),
    snapshot: {
      run: {
        id: run.id,
        repository: run.full_name,
        commitSha: run.commit_sha,
        status: run.status,
        startedAt: run.started_at.toISOString(),
        completedAt: run.completed_at?.toISOString() ?? null,
        discoveredAt: run.discovered_at?.toISOString() ?? null,
        materialised: run.materialised,
        githubContext: GitHubContextSchema.parse(run.github_context),
        error: run.error,
      },
      phases,
      tasks,
      steps,
      releases,
    },
  };
}
