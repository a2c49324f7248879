// Generated from action/src by `npm run build:action`; do not edit.
/**
 * Why a trigger could not start a run: the OIDC token could not be had, the API could not be
 * reached, or it refused the request (its `error.message`). The action and the CLI print the
 * message as it is. It extends `Error` rather than core's `ForgeError` because this folder is
 * shipped to GitHub Actions without the rest of the repository.
 */
export class TriggerError extends Error {
  /** The API's HTTP status, when it answered. */
  status;
  /** The API's `error.code`, when it answered with an error body. */
  code;
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TriggerError';
    this.status = options.status;
    this.code = options.code;
  }
}
/** A failure's message with its cause's (fetch reports "fetch failed" and hides why). */
export function failureReason(error) {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
