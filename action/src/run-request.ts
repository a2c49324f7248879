/**
 * The body of `POST /v1/runs` (core/contracts/api.ts `CreateRunRequestSchema`), built by the
 * GitHub Action and by `forge-pipeline trigger` alike. This folder imports nothing but Node's
 * own modules: the action runs from `action/dist` without the repository's node_modules, so the
 * contract is restated here as plain types, and the CLI checks the body against the zod schema.
 */

/** Why a run was started. */
export type RunTriggerType = 'push' | 'pull_request' | 'manual';

/** `POST /v1/runs`'s body. */
export interface RunRequestBody {
  readonly repository: string;
  readonly commit_sha: string;
  readonly branch?: string;
  readonly tag?: string;
  readonly trigger_type: RunTriggerType;
  readonly github_context?: {
    readonly pr_number: number | null;
    readonly run_id?: string;
    readonly context?: string;
  };
}

/** What a trigger knows about the commit it starts a run for. */
export interface RunRequestFields {
  readonly repository: string;
  readonly commit: string;
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
  readonly triggerType: RunTriggerType;
  readonly prNumber?: number | undefined;
  /** The GitHub Actions run that triggered it, when one did. */
  readonly actionsRunId?: string | undefined;
  /** The commit status context; the API's default (`ci/catalyst-forge`) when unset. */
  readonly statusContext?: string | undefined;
}

/**
 * Builds the request body: unset optional fields are left out rather than sent empty, and
 * `github_context` is sent whenever there is something GitHub reports should know.
 */
export function runRequestBody(fields: RunRequestFields): RunRequestBody {
  const githubContext =
    fields.prNumber === undefined &&
    fields.actionsRunId === undefined &&
    fields.statusContext === undefined
      ? undefined
      : {
          pr_number: fields.prNumber ?? null,
          ...(fields.actionsRunId === undefined ? {} : { run_id: fields.actionsRunId }),
          ...(fields.statusContext === undefined ? {} : { context: fields.statusContext }),
        };
  return {
    repository: fields.repository,
    commit_sha: fields.commit,
    ...(fields.branch === undefined ? {} : { branch: fields.branch }),
    ...(fields.tag === undefined ? {} : { tag: fields.tag }),
    trigger_type: fields.triggerType,
    ...(githubContext === undefined ? {} : { github_context: githubContext }),
  };
}
