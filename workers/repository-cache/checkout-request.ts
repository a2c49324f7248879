import { CheckoutRequestError } from './repository-cache-errors.js';

/** What a job asks the cache for. */
export interface CheckoutRequest {
  /** The repository: an `https://`, `ssh://`, `file://` URL, an scp-like address or a local path. */
  readonly url: string;
  /** A full commit SHA, a branch or a tag name. */
  readonly commit: string;
  /** The job's id (e.g. `<run>/task/<phase>/<project>`); one live checkout per job id. */
  readonly jobId: string;
  /** Aborts waiting for the lock and the running git command (the job was cancelled). */
  readonly signal?: AbortSignal;
}

/** Rejects a request git could misread (a ref that looks like an option, control characters). */
export function validateCheckoutRequest(request: CheckoutRequest): void {
  const problems: string[] = [];
  if (request.url.trim() === '' || request.url.trim().startsWith('-')) problems.push('url');
  if (!isPlausibleRef(request.commit)) problems.push('commit');
  if (request.jobId.trim() === '' || request.jobId.length > 1024 || request.jobId.includes('\0')) {
    problems.push('jobId');
  }
  if (problems.length > 0) {
    throw new CheckoutRequestError(`invalid checkout request: bad ${problems.join(', ')}`);
  }
}

/** Non-empty, no whitespace or control characters, and not an option (`-...`) for git to misread. */
function isPlausibleRef(ref: string): boolean {
  if (ref === '' || ref.length > 255 || ref.startsWith('-')) return false;
  return [...ref].every((character) => character > ' ' && character !== '\u007f');
}
