// Generated from action/src by `npm run build:action`; do not edit.
import { REQUEST_TIMEOUT_MS } from './create-run.js';
import { TriggerError, failureReason } from './trigger-error.js';
/**
 * Requests a GitHub Actions OIDC token for `audience` the way the runner offers it: `GET` on
 * `ACTIONS_ID_TOKEN_REQUEST_URL` with `&audience=` appended and the bearer
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answering `{"value": "<jwt>"}`. The variables exist only in
 * jobs with `permissions: id-token: write`; without them, or when the endpoint fails, this is a
 * {@link TriggerError} saying so.
 */
export async function requestActionsIdToken(options) {
  const requestUrl = options.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = options.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new TriggerError(
      'no GitHub Actions OIDC token available: give the job `permissions: id-token: write`',
    );
  }
  const separator = requestUrl.includes('?') ? '&' : '?';
  const url = `${requestUrl}${separator}audience=${encodeURIComponent(options.audience)}`;
  let response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new TriggerError(
      `could not request a GitHub Actions OIDC token: ${failureReason(error)}`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new TriggerError(
      `could not request a GitHub Actions OIDC token: HTTP ${response.status} ${text.slice(0, 200)}`.trim(),
      { status: response.status },
    );
  }
  let value;
  try {
    value = JSON.parse(text).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value === '') {
    throw new TriggerError('the GitHub Actions OIDC token endpoint answered without a token');
  }
  return value;
}
