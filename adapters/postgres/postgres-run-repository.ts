import type postgres from 'postgres';
import type { UpdateExecutionStatusRequest } from '../../core/contracts/api.js';
import type {
  AuditEntry,
  CreateRunResult,
  ExecutionStatusUpdate,
  NewRun,
  ProgressUpdate,
  RegisteredRepository,
  RunDetail,
  RunList,
  RunListQuery,
  RunRepository,
  SubmissionRecord,
} from '../../core/ports/run-repository.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';
import {
  deriveRunProgress,
  progressPointFacts,
  statusPointsBetween,
} from '../../core/run-progress/derive-run-progress.js';
import {
  cancelRun,
  updateRunStatus,
  updateStepStatus,
  updateTaskStatus,
} from '../../core/run-progress/explicit-changes.js';
import { RunProgressDraft } from '../../core/run-progress/run-progress-draft.js';
import {
  ExecutionNotFoundError,
  RunNotFoundError,
} from '../../core/run-progress/run-progress-errors.js';
import { isTerminalRunStatus, RunStatus } from '../../core/statuses.js';
import { TransitionOutcome, type TransitionResult } from '../../core/transitions.js';
import {
  flushStatusOutbox,
  recordSubmissionAndFlush,
  type StatusOutbox,
  type StatusTargetUrl,
} from './flush-status-outbox.js';
import { insertRun } from './insert-run.js';
import { loadRunSnapshot } from './load-run-snapshot.js';
import { storeOperation } from './postgres-errors.js';
import { StatusOutboxDeletions } from './status-outbox-deletions.js';
import {
  isUuid,
  RUN_COLUMNS_SQL,
  toAuditEntry,
  toPipelineRun,
  toRegisteredRepository,
  toRunDetail,
  type AuditRow,
  type RepositoryRow,
  type RunRow,
} from './postgres-run-rows.js';
import { writeRunProgress } from './write-run-progress.js';

/** The statuses of runs that have not ended. */
const UNFINISHED_RUN_STATUSES: readonly RunStatus[] = Object.values(RunStatus).filter(
  (status) => !isTerminalRunStatus(status),
);

/** Options of {@link PostgresRunRepository}. */
export interface PostgresRunRepositoryOptions {
  /** A migrated database's pool (`openPostgres`); the repository never ends it. */
  readonly sql: postgres.Sql;
  /** Where status events link: the Argo UI or the embedded API; default none. */
  readonly statusTargetUrl?: StatusTargetUrl;
  /** The clock of the progress rules' fallback times; injectable for tests. */
  readonly now?: () => Date;
}

/**
 * The {@link RunRepository} on Postgres. Run creation is one statement (an `INSERT ... ON
 * CONFLICT DO NOTHING` on (repository, commit) with its audit entry and status event, see
 * `insertRun`), so concurrent identical requests make one run. A run is read with everything
 * below it in one statement. Every progress change runs in a transaction that first locks the
 * run's row (`SELECT ... FOR UPDATE`), so changes of one run are serialised, then loads the run
 * into a core `RunProgressDraft`, applies the change and the derived statuses by the core rules,
 * and writes the rows, the audit entries and the queued status events together. Driver errors
 * become `RunStoreOperationError`s (retryable when the connection or the server was at fault).
 */
export class PostgresRunRepository implements RunRepository {
  readonly #sql: postgres.Sql;
  readonly #outbox: StatusOutbox;
  readonly #now: () => Date;

  constructor(options: PostgresRunRepositoryOptions) {
    this.#sql = options.sql;
    this.#outbox = {
      sql: options.sql,
      deletions: new StatusOutboxDeletions({ sql: options.sql }),
      targetUrl: options.statusTargetUrl ?? (() => null),
    };
    this.#now = options.now ?? (() => new Date());
  }

  registerRepository(fullName: string, cloneUrl: string): Promise<RegisteredRepository> {
    return storeOperation('register a repository', async () => {
      const [row] = await this.#sql<RepositoryRow[]>`
        INSERT INTO repositories (full_name, clone_url) VALUES (${fullName}, ${cloneUrl})
        ON CONFLICT (full_name) DO UPDATE SET clone_url = EXCLUDED.clone_url
        RETURNING *`;
      return toRegisteredRepository(row as RepositoryRow);
    });
  }

  getRepository(fullName: string): Promise<RegisteredRepository | undefined> {
    return storeOperation('read a repository', async () => {
      const [row] = await this.#sql<RepositoryRow[]>`
        SELECT * FROM repositories WHERE full_name = ${fullName}`;
      return row === undefined ? undefined : toRegisteredRepository(row);
    });
  }

  createRun(run: NewRun): Promise<CreateRunResult> {
    return storeOperation('create a run', () => insertRun(this.#sql, run));
  }

  getRun(runId: string): Promise<RunDetail | undefined> {
    if (!isUuid(runId)) return Promise.resolve(undefined);
    return storeOperation('read a run', async () => {
      const loaded = await loadRunSnapshot(this.#sql, runId, {
        lock: false,
        discoveryOutput: true,
      });
      return loaded === undefined ? undefined : toRunDetail(loaded.row, loaded.snapshot);
    });
  }

  listRuns(query: RunListQuery): Promise<RunList> {
    return storeOperation('list runs', async () => {
      const sql = this.#sql;
      const filter = sql`
        WHERE true
        ${query.repository === undefined ? sql`` : sql`AND repo.full_name = ${query.repository}`}
        ${query.branch === undefined ? sql`` : sql`AND r.branch = ${query.branch}`}`;
      const [rows, [count]] = await Promise.all([
        sql<RunRow[]>`
          SELECT ${sql.unsafe(RUN_COLUMNS_SQL)}
          FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
          ${filter}
          ORDER BY r.started_at DESC, r.id DESC
          LIMIT ${query.limit} OFFSET ${query.offset}`,
        sql<{ total: string }[]>`
          SELECT count(*) AS total
          FROM pipeline_runs r JOIN repositories repo ON repo.id = r.repository_id
          ${filter}`,
      ]);
      return { runs: rows.map(toPipelineRun), total: Number(count?.total ?? 0) };
    });
  }

  recordSubmission(
    runId: string,
    workflowName: string,
    sink: StatusEventSink,
  ): Promise<SubmissionRecord> {
    if (!isUuid(runId)) return Promise.reject(new RunNotFoundError(runId));
    return storeOperation('record a submission', async () => {
      const recorded = await recordSubmissionAndFlush(this.#outbox, sink, runId, workflowName);
      if (recorded === undefined) throw new RunNotFoundError(runId);
      return recorded;
    });
  }

  updateProgress<T>(
    runId: string,
    change: (draft: RunProgressDraft) => T,
  ): Promise<ProgressUpdate<T>> {
    if (!isUuid(runId)) return Promise.reject(new RunNotFoundError(runId));
    return storeOperation('update run progress', () =>
      this.#sql.begin(async (sql) => {
        const loaded = await loadRunSnapshot(sql, runId, { lock: true, discoveryOutput: false });
        if (loaded === undefined) throw new RunNotFoundError(runId);
        const draft = new RunProgressDraft(loaded.snapshot, { now: this.#now() });
        const before = progressPointFacts(draft);
        const result = change(draft);
        deriveRunProgress(draft);
        const points = statusPointsBetween(before, progressPointFacts(draft));
        await writeRunProgress(sql, loaded.snapshot, draft, {
          points,
          sequenceBefore: loaded.statusEventSequence,
        });
        return { result, runStatus: draft.run.status, points };
      }),
    );
  }

  async updateTaskStatus(
    taskId: string,
    update: UpdateExecutionStatusRequest,
    actor: string,
  ): Promise<ExecutionStatusUpdate> {
    const runId = await this.#runOf('task_executions', 'task', taskId);
    const progress = await this.updateProgress(runId, (draft) => {
      const transition = updateTaskStatus(draft, taskId, update, actor);
      return { transition, status: draft.taskById(taskId).status };
    });
    return { runId, ...progress.result, runStatus: progress.runStatus };
  }

  async updateStepStatus(
    stepId: string,
    update: UpdateExecutionStatusRequest,
    actor: string,
  ): Promise<ExecutionStatusUpdate> {
    const runId = await this.#runOf('step_executions', 'step', stepId);
    const progress = await this.updateProgress(runId, (draft) => {
      const transition = updateStepStatus(draft, stepId, update, actor);
      return { transition, status: draft.stepById(stepId).status };
    });
    return { runId, ...progress.result, runStatus: progress.runStatus };
  }

  updateRunStatus(
    runId: string,
    status: RunStatus,
    actor: string,
    reason?: string,
  ): Promise<ProgressUpdate<TransitionResult<RunStatus>>> {
    return this.updateProgress(runId, (draft) => updateRunStatus(draft, status, actor, reason));
  }

  cancelRun(
    runId: string,
    actor: string,
    reason?: string,
  ): Promise<ProgressUpdate<TransitionResult<RunStatus>>> {
    return this.updateProgress(runId, (draft) => cancelRun(draft, actor, reason));
  }

  async cancelUnfinishedRuns(actor: string, reason: string): Promise<readonly string[]> {
    const unfinished = await storeOperation(
      'find unfinished runs',
      () =>
        this.#sql<{ id: string }[]>`
        SELECT id FROM pipeline_runs WHERE status IN ${this.#sql(UNFINISHED_RUN_STATUSES)}
        ORDER BY started_at, id`,
    );
    const cancelled: string[] = [];
    for (const { id } of unfinished) {
      const update = await this.cancelRun(id, actor, reason);
      if (update.result.outcome === TransitionOutcome.applied) cancelled.push(id);
    }
    return cancelled;
  }

  auditTrail(runId: string): Promise<readonly AuditEntry[]> {
    if (!isUuid(runId)) return Promise.resolve([]);
    return storeOperation('read the audit log', async () => {
      const rows = await this.#sql<AuditRow[]>`
        SELECT * FROM audit_log WHERE run_id = ${runId} ORDER BY id`;
      return rows.map(toAuditEntry);
    });
  }

  flushStatusEvents(sink: StatusEventSink, runId?: string): Promise<number> {
    if (runId !== undefined && !isUuid(runId)) return Promise.resolve(0);
    return storeOperation('send status events', () => flushStatusOutbox(this.#outbox, sink, runId));
  }

  /** The run of a task or step, by the execution's id. */
  async #runOf(
    table: 'task_executions' | 'step_executions',
    entity: 'task' | 'step',
    id: string,
  ): Promise<string> {
    if (!isUuid(id)) throw new ExecutionNotFoundError(entity, id);
    const [row] = await storeOperation(
      `find a ${entity}`,
      () =>
        this.#sql<{ run_id: string }[]>`SELECT run_id FROM ${this.#sql(table)} WHERE id = ${id}`,
    );
    if (row === undefined) throw new ExecutionNotFoundError(entity, id);
    return row.run_id;
  }
}
