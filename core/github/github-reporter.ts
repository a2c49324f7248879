import type { CommitStatus } from './commit-status.js';

/**
 * What the status fan-out needs of GitHub: commit statuses and one edited comment per run on
 * pull requests. Adapters wait out rate limits they may wait for and otherwise throw
 * `GitHubRateLimitedError`; every other failure is a `GitHubRequestError` with the HTTP status.
 * `repository` is `owner/name`.
 */
export interface GitHubReporter {
  /** Sets the status of `context` on commit `sha` (a new status replaces the context's last). */
  setCommitStatus(
    repository: string,
    sha: string,
    status: CommitStatus,
    signal?: AbortSignal,
  ): Promise<void>;
  /** The id of the first comment on issue or pull request `issueNumber` containing `marker`. */
  findIssueComment(
    repository: string,
    issueNumber: number,
    marker: string,
    signal?: AbortSignal,
  ): Promise<number | undefined>;
  /** Posts a comment; answers its id. */
  createIssueComment(
    repository: string,
    issueNumber: number,
    body: string,
    signal?: AbortSignal,
  ): Promise<number>;
  /** Replaces a comment's body; a comment that is gone is a `GitHubRequestError` with 404. */
  updateIssueComment(
    repository: string,
    commentId: number,
    body: string,
    signal?: AbortSignal,
  ): Promise<void>;
}
