// Generated from action/src by `npm run build:action`; do not edit.
import { TriggerError, failureReason } from './trigger-error.js';
/** How long one HTTP request of a trigger may take. */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * `POST <apiUrl>/v1/runs` with a bearer token. A 2xx answer gives the run; anything else is a
 * {@link TriggerError} carrying the API's `error.message` (core/contracts/api.ts `ErrorBody`), or
 * the HTTP status when the answer has no such body.
 */
export async function createRun(options) {
  const base = options.apiUrl.replace(/\/+$/, '');
  const url = `${base}/v1/runs`;
  let response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new TriggerError(`could not reach ${url}: ${failureReason(error)}`, { cause: error });
  }
  const text = await response.text();
  const json = parseJson(text);
  if (!response.ok) {
    const apiError = errorOf(json);
    throw new TriggerError(
      apiError?.message ?? `${url} answered HTTP ${response.status} ${response.statusText}`.trim(),
      { status: response.status, ...(apiError?.code === undefined ? {} : { code: apiError.code }) },
    );
  }
  const runId = runIdOf(json);
  if (runId === undefined) {
    throw new TriggerError(`${url} answered HTTP ${response.status} without a run id`, {
      status: response.status,
    });
  }
  const location = response.headers.get('location');
  return {
    runId,
    runUrl: location ? new URL(location, `${base}/`).href : `${base}/v1/runs/${runId}`,
    created: response.status !== 200,
  };
}
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
function errorOf(json) {
  const error = field(json, 'error');
  const message = field(error, 'message');
  if (typeof message !== 'string' || message === '') return undefined;
  const code = field(error, 'code');
  return typeof code === 'string' ? { message, code } : { message };
}
/** The run's id in the answer: `id`, `run_id`, or `run.id`. */
function runIdOf(json) {
  for (const candidate of [
    field(json, 'id'),
    field(json, 'run_id'),
    field(field(json, 'run'), 'id'),
  ]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return undefined;
}
function field(value, name) {
  return typeof value === 'object' && value !== null ? value[name] : undefined;
}
