// Generated from action/src by `npm run build:action`; do not edit.
/**
 * The body of `POST /v1/runs` (core/contracts/api.ts `CreateRunRequestSchema`), built by the
 * GitHub Action and by `forge-pipeline trigger` alike. This folder imports nothing but Node's
 * own modules: the action runs from `action/dist` without the repository's node_modules, so the
 * contract is restated here as plain types, and the CLI checks the body against the zod schema.
 */
/**
 * Builds the request body: unset optional fields are left out rather than sent empty, and
 * `github_context` is sent whenever there is something GitHub reports should know.
 */
export function runRequestBody(fields) {
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
