import type postgres from 'postgres';
import { GitHubContextSchema, type TriggerType } from '../../core/contracts/api.js';
import type { DiscoveryOutput } from '../../core/contracts/discovery-output.js';
import type {
  AuditEntry,
  PipelineRun,
  RegisteredRepository,
  RunDetail,
} from '../../core/ports/run-repository.js';
import type { RunSnapshot } from '../../core/run-progress/run-snapshot.js';
import { RunProgressDraft } from '../../core/run-progress/run-progress-draft.js';
import type { RunStatus } from '../../core/statuses.js';

/*
 * How rows of the control plane's tables are read into the core's shapes (times as ISO-8601
 * texts, ids as text). Queries take any `Sql`, so they run inside or outside a transaction.
 */

/** Anything that runs queries: the pool, or a transaction. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** Whether a text is a UUID, so that malformed ids never reach a `uuid` column. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/**
 * A `timestamptz` column as the core writes times: ISO-8601 in UTC with milliseconds, exactly
 * what `Date.prototype.toISOString` gives (both drop the microseconds), so rows read as JSON
 * need no mapping. Static SQL text: `column` is never a value from outside.
 */
export function isoTimeSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * The columns of a run with its repository, for every read of a run (`r` is `pipeline_runs`,
 * `repo` its repository). The discovery output, possibly large, is read only where asked for.
 */
export const RUN_COLUMNS_SQL = `r.id, repo.full_name, repo.clone_url, r.branch, r.tag, r.commit_sha,
  r.triggered_by, r.trigger_type, r.status, r.started_at, r.completed_at, r.discovered_at,
  r.argo_workflow_name, r.github_context, r.error, r.status_event_sequence, r.created_at,
  r.updated_at, r.discovery_output IS NOT NULL AS materialised`;

interface RepositoryRow {
  id: string;
  full_name: string;
  clone_url: string;
  created_at: Date;
}

/** A run as {@link RUN_COLUMNS_SQL} reads it (`discovery_output` only when selected too). */
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
  github_context: unknown;
  error: string | null;
  status_event_sequence: string;
  created_at: Date;
  updated_at: Date;
  materialised: boolean;
  discovery_output?: DiscoveryOutput | null;
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
    discoveryOutput: row.discovery_output ?? null,
    phases: ordered.phases().map(({ id, ...phase }) => ({
      id: id ?? '',
      ...phase,
      tasks: tasks
        .filter((task) => task.phase === phase.name)
        .map(({ id: taskId, phase: _phase, group: _group, ...task }) => ({
          id: taskId ?? '',
          ...task,
          steps: ordered
            .stepsOf(task.jobId)
            .map(({ jobId: _jobId, id: stepId, ...step }) => ({ id: stepId ?? '', ...step })),
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

function iso(time: Date): string {
  return time.toISOString();
}

function isoOrNull(time: Date | null): string | null {
  return time === null ? null : time.toISOString();
}
