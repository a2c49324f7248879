// Generated from action/src by `npm run build:action`; do not edit.
import { appendFile, readFile } from 'node:fs/promises';
import { requestActionsIdToken } from './actions-id-token.js';
import { createRun } from './create-run.js';
import { githubRunFields } from './github-run-fields.js';
import { runRequestBody } from './run-request.js';
import { TriggerError } from './trigger-error.js';
/**
 * The GitHub Action (action.yml): reads its inputs (`INPUT_API-URL`, `INPUT_AUDIENCE`,
 * `INPUT_STATUS-CONTEXT`, `INPUT_TRIGGER-TYPE`) and the job's event, requests an OIDC token for
 * the audience, starts the run with `POST /v1/runs`, prints its id and URL, and sets the
 * `run-id` and `run-url` outputs. Returns the exit code: 0, or 1 after an `::error::` line with
 * the reason (the API's `error.message` when it refused). The job does not wait for the run.
 */
export async function runAction(env, io) {
  try {
    const apiUrl = input(env, 'API-URL');
    if (apiUrl === undefined) throw new TriggerError('the api-url input is required');
    const audience = input(env, 'AUDIENCE') ?? 'catalyst-forge';
    const event = await readEvent(env.GITHUB_EVENT_PATH);
    const fields = githubRunFields(env, event, {
      statusContext: input(env, 'STATUS-CONTEXT'),
      triggerType: input(env, 'TRIGGER-TYPE'),
    });
    const token = await requestActionsIdToken({ env, audience, fetch: io.fetch });
    const run = await createRun({ apiUrl, token, body: runRequestBody(fields), fetch: io.fetch });
    io.stdout(
      `Catalyst Forge run ${run.runId} ${run.created ? 'started' : 'already exists'} for ${fields.repository}@${fields.commit}\n${run.runUrl}\n`,
    );
    if (env.GITHUB_OUTPUT) {
      await appendFile(env.GITHUB_OUTPUT, `run-id=${run.runId}\nrun-url=${run.runUrl}\n`);
    }
    if (env.GITHUB_STEP_SUMMARY) {
      await appendFile(
        env.GITHUB_STEP_SUMMARY,
        `Catalyst Forge run [${run.runId}](${run.runUrl})\n`,
      );
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stdout(`::error title=Catalyst Forge trigger failed::${escapeCommand(message)}\n`);
    return 1;
  }
}
function input(env, name) {
  const value = env[`INPUT_${name}`]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
async function readEvent(path) {
  if (!path) return {};
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new TriggerError(`could not read the event payload at ${path}`, { cause: error });
  }
}
/** Workflow command data escapes `%`, CR and LF. */
function escapeCommand(text) {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
