/**
 * Why a trigger could not start a run: the OIDC token could not be had, the API could not be
 * reached, or it refused the request (its `error.message`). The action and the CLI print the
 * message as it is. It extends `Error` rather than core's `ForgeError` because this folder is
 * shipped to GitHub Actions without the rest of the repository.
 */
export class TriggerError extends Error {
  /** The API's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** The API's `error.code`, when it answered with an error body. */
  readonly code: string | undefined;

  constructor(message: string, options: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TriggerError';
    this.status = options.status;
    this.code = options.code;
  }
}

/** A failure's message with its cause's (fetch reports "fetch failed" and hides why). */
export function failureReason(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
