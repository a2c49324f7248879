import type { Migration } from './migration.js';

/**
 * The control plane's first schema (DESIGN.md section 5): repositories, runs, phase, task and
 * step executions, release executions, the append-only audit log and the outbox of run
 * status events. Status columns are limited to the words of `core/statuses.ts` (a test keeps
 * the two in step). Released migrations never change; later schema changes are new files.
 */
export const initialSchema: Migration = {
  version: 1,
  name: 'initial schema',
  sql: /* sql */ `
CREATE TABLE repositories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  full_name text NOT NULL,
  clone_url text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT repositories_full_name_key UNIQUE (full_name)
);

CREATE TABLE pipeline_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  repository_id uuid NOT NULL REFERENCES repositories (id),
  branch text,
  tag text,
  commit_sha text NOT NULL CHECK (commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
  triggered_by text NOT NULL,
  trigger_type text NOT NULL CHECK (trigger_type IN ('push', 'pull_request', 'manual')),
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'discovering', 'running', 'success', 'failed', 'cancelled')),
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  discovered_at timestamptz,
  argo_workflow_name text,
  discovery_output jsonb,
  github_context jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text,
  status_event_sequence bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pipeline_runs_repository_commit_key UNIQUE (repository_id, commit_sha)
);
CREATE INDEX pipeline_runs_repository_branch_started_idx
  ON pipeline_runs (repository_id, branch, started_at DESC);
CREATE INDEX pipeline_runs_status_started_idx ON pipeline_runs (status, started_at);
CREATE INDEX pipeline_runs_repository_started_idx
  ON pipeline_runs (repository_id, started_at DESC);

CREATE TABLE phase_executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
  phase_name text NOT NULL,
  group_number integer NOT NULL CHECK (group_number > 0),
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'skipped')),
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT phase_executions_run_phase_key UNIQUE (run_id, phase_name)
);

CREATE TABLE task_executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  phase_id uuid NOT NULL REFERENCES phase_executions (id) ON DELETE CASCADE,
  run_id uuid NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
  project_name text NOT NULL,
  project_path text NOT NULL,
  job_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'skipped')),
  started_at timestamptz,
  completed_at timestamptz,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT task_executions_job_id_key UNIQUE (job_id),
  CONSTRAINT task_executions_phase_project_key UNIQUE (phase_id, project_name)
);
CREATE INDEX task_executions_run_idx ON task_executions (run_id);

CREATE TABLE step_executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL REFERENCES task_executions (id) ON DELETE CASCADE,
  run_id uuid NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
  step_name text NOT NULL,
  position integer NOT NULL CHECK (position >= 0),
  action text NOT NULL CHECK (action IN ('earthly', 'shell')),
  target text,
  run_command text,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'skipped')),
  exit_code integer,
  logs_key text,
  started_at timestamptz,
  completed_at timestamptz,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT step_executions_task_step_key UNIQUE (task_id, step_name),
  CONSTRAINT step_executions_command_check CHECK (
    (action = 'earthly' AND target IS NOT NULL) OR (action = 'shell' AND run_command IS NOT NULL)
  )
);
CREATE INDEX step_executions_run_idx ON step_executions (run_id);

CREATE TABLE release_executions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
  project_name text NOT NULL,
  job_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'skipped')),
  started_at timestamptz,
  completed_at timestamptz,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT release_executions_job_id_key UNIQUE (job_id),
  CONSTRAINT release_executions_run_project_key UNIQUE (run_id, project_name)
);

-- No foreign key to the runs: the audit trail outlives the rows it describes.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity_type text NOT NULL
    CHECK (entity_type IN ('repository', 'run', 'phase', 'task', 'step', 'release')),
  entity_id uuid NOT NULL,
  run_id uuid,
  from_status text,
  to_status text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_run_idx ON audit_log (run_id, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Status events written with the change that caused them, sent after it commits.
CREATE TABLE status_event_outbox (
  run_id uuid NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
  sequence bigint NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, sequence)
);
`,
};
