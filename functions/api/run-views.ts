import type { JobRecord } from '../../core/contracts/jobs.js';
import type {
  PhaseExecution,
  PipelineRun,
  RunDetail,
  StepExecution,
  TaskExecution,
} from '../../core/ports/run-repository.js';

/** Turns a step's log key into a link a browser can open (a presigned URL). */
export type LogLinker = (logsKey: string) => Promise<string>;

/** A run as the API returns it (snake_case, like the request bodies). */
export function runView(run: PipelineRun): Record<string, unknown> {
  return {
    id: run.id,
    repository: run.repository,
    branch: run.branch,
    tag: run.tag,
    commit_sha: run.commitSha,
    triggered_by: run.triggeredBy,
    trigger_type: run.triggerType,
    status: run.status,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    argo_workflow_name: run.workflowName,
    github_context: run.githubContext,
    error: run.error,
  };
}

/** A run with its phases → tasks → steps and releases; each step with a link to its log. */
export async function runDetailView(
  run: RunDetail,
  linkLog: LogLinker,
): Promise<Record<string, unknown>> {
  return {
    ...runView(run),
    phases: await Promise.all(run.phases.map((phase) => phaseView(phase, linkLog))),
    releases: run.releases.map((release) => ({
      id: release.id,
      job_id: release.jobId,
      project: release.project,
      status: release.status,
      started_at: release.startedAt,
      completed_at: release.completedAt,
      error: release.error,
    })),
  };
}

async function phaseView(phase: PhaseExecution, linkLog: LogLinker) {
  return {
    id: phase.id,
    name: phase.name,
    group: phase.group,
    status: phase.status,
    started_at: phase.startedAt,
    completed_at: phase.completedAt,
    tasks: await Promise.all(phase.tasks.map((task) => taskView(task, linkLog))),
  };
}

async function taskView(task: TaskExecution, linkLog: LogLinker) {
  return {
    id: task.id,
    job_id: task.jobId,
    project: task.project,
    project_path: task.projectPath,
    status: task.status,
    started_at: task.startedAt,
    completed_at: task.completedAt,
    error: task.error,
    steps: await Promise.all(task.steps.map((step) => stepView(step, linkLog))),
  };
}

async function stepView(step: StepExecution, linkLog: LogLinker) {
  return {
    id: step.id,
    name: step.name,
    action: step.action,
    target: step.target,
    run: step.run,
    status: step.status,
    exit_code: step.exitCode,
    logs_key: step.logsKey,
    log_url: step.logsKey === null ? null : await linkLog(step.logsKey),
    started_at: step.startedAt,
    completed_at: step.completedAt,
    error: step.error,
  };
}

/** A job record as `GET /v1/jobs/{run_id}` returns it: the table's own fields. */
export function jobView(record: JobRecord): Record<string, unknown> {
  return {
    job_id: record.job_id,
    run_id: record.run_id,
    type: record.type,
    status: record.status,
    worker_id: record.worker_id ?? null,
    result_location: record.result_location ?? null,
    cancel_requested: record.cancel_requested,
    error: record.error ?? null,
    created_at: record.created_at,
    updated_at: record.updated_at,
    started_at: record.started_at ?? null,
    completed_at: record.completed_at ?? null,
    steps: record.steps ?? {},
  };
}
