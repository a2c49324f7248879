import type postgres from 'postgres';
import { GitHubContextSchema, type TriggerType } from '../../core/contracts/api.js';
import type { DiscoveryOutput } from '../../core/contracts/discovery-output.js';
import type {
  AuditEntry,
  PipelineRun,
  RegisteredRepository,
  RunDetail,
} from '../../core/ports/run-repository.js';
import type {
  PhaseState,
  ReleaseState,
  RunSnapshot,
  StepAction,
  StepState,
  TaskState,
} from '../../core/run-progress/run-snapshot.js';
import { RunProgressDraft } from '../../core/run-progress/run-progress-draft.js';
import type { ExecutionStatus, RunStatus } from '../../core/statuses.js';

/*
 * How rows of the control plane's tables are read: the queries, and the mapping from columns
 * to the core's shapes (times as ISO-8601 texts, ids as text). Queries take any `Sql`, so they
 * run inside or outside a transaction.
 */

/** Anything that runs queries: the pool, or a transaction. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** Whether a text is a UUID, so that malformed ids never reach a `uuid` column. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

interface RepositoryRow {
  id: string;
  full_name: string;
  clone_url: string;
  created_at: Date;
}

interface RunRow {
  id: string;
  full_name: string;
  clone_url: string;
  branch: string | null;
  tag: string | null;
  commit_sha: string;
  triggered_by: string;
  trigger_type: TriggerType;
  status: RunStatus;
  started_at: Date;
  completed_at: Date | null;
  discovered_at: Date | null;
  argo_workflow_name: string | null;
  discovery_output: DiscoveryOutput | null;
  github_context: unknown;
  error: string | null;
  status_event_sequence: string;
  created_at: Date;
  updated_at: Date;
}

type ProgressRunRow = Pick<
  RunRow,
  | 'id'
  | 'full_name'
  | 'commit_sha'
  | 'status'
  | 'started_at'
  | 'completed_at'
  | 'discovered_at'
  | 'github_context'
  | 'error'
  | 'status_event_sequence'
> & { materialised: boolean };

interface PhaseRow {
  id: string;
  phase_name: string;
  group_number: number;
  status: ExecutionStatus;
  started_at: Date | null;
  completed_at: Date | null;
}

interface TaskRow {
  id: string;
  phase_id: string;
  phase_name: string;
  group_number: number;
  project_name: string;
  project_path: string;
  job_id: string;
  status: ExecutionStatus;
  started_at: Date | null;
  completed_at: Date | null;
  error: string | null;
}

interface StepRow {
  id: string;
  job_id: string;
  step_name: string;
  position: number;
  action: StepAction;
  target: string | null;
  run_command: string | null;
  status: ExecutionStatus;
  exit_code: number | null;
  logs_key: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  error: string | null;
}

interface ReleaseRow {
  id: string;
  project_name: string;
  job_id: string;
  status: ExecutionStatus;
  started_at: Date | null;
  completed_at: Date | null;
  error: string | null;
}

interface AuditRow {
  id: string;
  entity_type: AuditEntry['entityType'];
  entity_id: string;
  run_id: string | null;
  from_status: string | null;
  to_status: string;
  actor: string;
  at: Date;
  details: Record<string, unknown>;
}

/** The run's own row, its repository joined; locked for update when `lock` is set. */
export async function selectRun(
  sql: Queryable,
  runId: string,
  lock = false,
): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`
    SELECT r.*, repo.full_name, repo.clone_url
    FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
    WHERE r.id = ${runId}
    ${lock ? sql`FOR UPDATE OF r` : sql``}`;
  return row;
}

/** A run's snapshot for the progress rules, and its status event counter. */
export interface LoadedSnapshot {
  readonly snapshot: RunSnapshot;
  readonly statusEventSequence: number;
}

/** Loads a run and everything below it; with `lock`, holds the run's row lock. */
export async function loadRunSnapshot(
  sql: Queryable,
  runId: string,
  lock: boolean,
): Promise<LoadedSnapshot | undefined> {
  // The discovery output, possibly large, stays in the database: the rules only ask whether
  // the plan exists.
  const [run] = await sql<ProgressRunRow[]>`
    SELECT r.id, repo.full_name, r.commit_sha, r.status, r.started_at, r.completed_at,
      r.discovered_at, r.discovery_output IS NOT NULL AS materialised, r.github_context, r.error,
      r.status_event_sequence
    FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
    WHERE r.id = ${runId}
    ${lock ? sql`FOR UPDATE OF r` : sql``}`;
  if (run === undefined) return undefined;
  // Unordered: the draft orders rows itself (sorting by text in SQL costs more than the rest).
  const [phases, tasks, steps, releases] = await Promise.all([
    sql<PhaseRow[]>`
      SELECT id, phase_name, group_number, status, started_at, completed_at
      FROM phase_executions WHERE run_id = ${runId}`,
    sql<TaskRow[]>`
      SELECT t.id, t.phase_id, p.phase_name, p.group_number, t.project_name, t.project_path,
        t.job_id, t.status, t.started_at, t.completed_at, t.error
      FROM task_executions t JOIN phase_executions p ON p.id = t.phase_id
      WHERE t.run_id = ${runId}`,
    sql<StepRow[]>`
      SELECT s.id, t.job_id, s.step_name, s.position, s.action, s.target, s.run_command,
        s.status, s.exit_code, s.logs_key, s.started_at, s.completed_at, s.error
      FROM step_executions s JOIN task_executions t ON t.id = s.task_id
      WHERE s.run_id = ${runId}`,
    sql<ReleaseRow[]>`
      SELECT id, project_name, job_id, status, started_at, completed_at, error
      FROM release_executions WHERE run_id = ${runId}`,
  ]);
  return {
    statusEventSequence: Number(run.status_event_sequence),
    snapshot: {
      run: {
        id: run.id,
        repository: run.full_name,
        commitSha: run.commit_sha,
        status: run.status,
        startedAt: iso(run.started_at),
        completedAt: isoOrNull(run.completed_at),
        discoveredAt: isoOrNull(run.discovered_at),
        materialised: run.materialised,
        githubContext: GitHubContextSchema.parse(run.github_context),
        error: run.error,
      },
      phases: phases.map(toPhaseState),
      tasks: tasks.map(toTaskState),
      steps: steps.map(toStepState),
      releases: releases.map(toReleaseState),
    },
  };
}

/** A run row as the port shows it. */
export function toPipelineRun(row: RunRow): PipelineRun {
  return {
    id: row.id,
    repository: row.full_name,
    cloneUrl: row.clone_url,
    branch: row.branch,
    tag: row.tag,
    commitSha: row.commit_sha,
    triggeredBy: row.triggered_by,
    triggerType: row.trigger_type,
    status: row.status,
    startedAt: iso(row.started_at),
    completedAt: isoOrNull(row.completed_at),
    discoveredAt: isoOrNull(row.discovered_at),
    workflowName: row.argo_workflow_name,
    githubContext: GitHubContextSchema.parse(row.github_context),
    error: row.error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/**
 * Assembles the nested view of a run from its snapshot (which carries every row's id), in plan
 * order: phases by group and name, tasks by project path, steps as discovery gave them.
 */
export function toRunDetail(row: RunRow, snapshot: RunSnapshot): RunDetail {
  const ordered = new RunProgressDraft(snapshot, { now: new Date(0) });
  const tasks = ordered.tasks();
  return {
    ...toPipelineRun(row),
    discoveryOutput: row.discovery_output,
    phases: ordered.phases().map((phase) => ({
      id: phase.id ?? '',
      name: phase.name,
      group: phase.group,
      status: phase.status,
      startedAt: phase.startedAt,
      completedAt: phase.completedAt,
      tasks: tasks
        .filter((task) => task.phase === phase.name)
        .map((task) => ({
          id: task.id ?? '',
          jobId: task.jobId,
          project: task.project,
          projectPath: task.projectPath,
          status: task.status,
          startedAt: task.startedAt,
          completedAt: task.completedAt,
          error: task.error,
          steps: ordered
            .stepsOf(task.jobId)
            .map(({ jobId: _jobId, id, ...step }) => ({ id: id ?? '', ...step })),
        })),
    })),
    releases: ordered.releases().map(({ id, ...release }) => ({ id: id ?? '', ...release })),
  };
}

/** A repository row as the port shows it. */
export function toRegisteredRepository(row: RepositoryRow): RegisteredRepository {
  return {
    id: row.id,
    fullName: row.full_name,
    cloneUrl: row.clone_url,
    createdAt: iso(row.created_at),
  };
}

/** An audit row as the port shows it. */
export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: Number(row.id),
    entityType: row.entity_type,
    entityId: row.entity_id,
    runId: row.run_id,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    actor: row.actor,
    at: iso(row.at),
    details: row.details,
  };
}

export type { AuditRow, RepositoryRow, RunRow };

function toPhaseState(row: PhaseRow): PhaseState {
  return {
    id: row.id,
    name: row.phase_name,
    group: row.group_number,
    status: row.status,
    startedAt: isoOrNull(row.started_at),
    completedAt: isoOrNull(row.completed_at),
  };
}

function toTaskState(row: TaskRow): TaskState {
  return {
    id: row.id,
    jobId: row.job_id,
    phase: row.phase_name,
    group: row.group_number,
    project: row.project_name,
    projectPath: row.project_path,
    status: row.status,
    startedAt: isoOrNull(row.started_at),
    completedAt: isoOrNull(row.completed_at),
    error: row.error,
  };
}

function toStepState(row: StepRow): StepState {
  return {
    id: row.id,
    jobId: row.job_id,
    name: row.step_name,
    position: row.position,
    action: row.action,
    target: row.target,
    run: row.run_command,
    status: row.status,
    exitCode: row.exit_code,
    logsKey: row.logs_key,
    startedAt: isoOrNull(row.started_at),
    completedAt: isoOrNull(row.completed_at),
    error: row.error,
  };
}

function toReleaseState(row: ReleaseRow): ReleaseState {
  return {
    id: row.id,
    jobId: row.job_id,
    project: row.project_name,
    status: row.status,
    startedAt: isoOrNull(row.started_at),
    completedAt: isoOrNull(row.completed_at),
    error: row.error,
  };
}

function iso(time: Date): string {
  return time.toISOString();
}

function isoOrNull(time: Date | null): string | null {
  return time === null ? null : time.toISOString();
}
