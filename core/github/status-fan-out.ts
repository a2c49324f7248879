import type { RunStatusEvent } from '../contracts/status-events.js';
import { errorMessage } from '../errors.js';
import { commitKey, isNewerEvent, latestPerCommit } from './coalesce-events.js';
import { commitStatusFor } from './commit-status.js';
import { GitHubRateLimitedError, GitHubRequestError } from './github-errors.js';
import type { GitHubReporter } from './github-reporter.js';
import { renderPullRequestSummary, summaryMarker } from './pull-request-summary.js';

/** The small structured logger the fan-out writes to; Powertools' Logger fits. */
export interface FanOutLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything. */
export const silentFanOutLogger: FanOutLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** What became of the events of one {@link GitHubStatusFanOut.deliver} call. */
export interface FanOutResult {
  /** Sent to GitHub (status, and the summary comment on a pull request). */
  readonly delivered: readonly RunStatusEvent[];
  /** Not sent: a newer event of the same commit was in the batch, or was already sent. */
  readonly superseded: readonly RunStatusEvent[];
  /** Not sent for GitHub's rate limit (or the caller's deadline): worth delivering again. */
  readonly deferred: readonly { event: RunStatusEvent; retryAfterMs: number }[];
  /** GitHub refused or failed; logged, and not worth delivering again. */
  readonly failed: readonly { event: RunStatusEvent; error: unknown }[];
}

/** Where the events the fan-out takes come from: the port the embedded sink hands them to. */
export interface StatusEventDelivery {
  deliver(events: readonly RunStatusEvent[], signal?: AbortSignal): Promise<FanOutResult>;
}

/** Options of {@link GitHubStatusFanOut}. */
export interface GitHubStatusFanOutOptions {
  readonly reporter: GitHubReporter;
  readonly logger?: FanOutLogger;
  /** Commits and runs remembered (last event sent, summary comment id); default 1000 each. */
  readonly remembered?: number;
}

/**
 * Turns run status events into GitHub commit statuses and pull-request summary comments
 * (DESIGN.md section 7). Each call coalesces its events to the newest per commit and sends
 * only those, one commit after the other (GitHub asks for serial content-creating requests);
 * an event older than one already sent for its commit is dropped, so a late delivery never
 * moves a status backwards. A run's comment is found by its marker (once; then its id is
 * remembered) and edited, so a restart never posts a second one. A GitHub failure is logged and
 * reported, never thrown; after a rate limit the rest of the call is deferred, not attempted.
 * Calls are served one at a time.
 */
export class GitHubStatusFanOut implements StatusEventDelivery {
  readonly #reporter: GitHubReporter;
  readonly #logger: FanOutLogger;
  readonly #remembered: number;
  readonly #lastSent = new Map<string, RunStatusEvent>();
  readonly #commentIds = new Map<string, number>();
  #serial: Promise<unknown> = Promise.resolve();

  constructor(options: GitHubStatusFanOutOptions) {
    this.#reporter = options.reporter;
    this.#logger = options.logger ?? silentFanOutLogger;
    this.#remembered = options.remembered ?? 1000;
  }

  deliver(events: readonly RunStatusEvent[], signal?: AbortSignal): Promise<FanOutResult> {
    const result = this.#serial.then(() => this.#deliver(events, signal));
    this.#serial = result.catch(() => undefined);
    return result;
  }

  async #deliver(events: readonly RunStatusEvent[], signal?: AbortSignal): Promise<FanOutResult> {
    const latest = latestPerCommit(events);
    const superseded = events.filter((event) => !latest.includes(event));
    const delivered: RunStatusEvent[] = [];
    const deferred: { event: RunStatusEvent; retryAfterMs: number }[] = [];
    const failed: { event: RunStatusEvent; error: unknown }[] = [];
    let rateLimitedFor: number | undefined;
    for (const event of latest) {
      const sent = this.#lastSent.get(commitKey(event));
      if (sent !== undefined && !isNewerEvent(event, sent)) {
        superseded.push(event);
      } else if (rateLimitedFor !== undefined || signal?.aborted) {
        deferred.push({ event, retryAfterMs: rateLimitedFor ?? 0 });
      } else {
        try {
          await this.#send(event, signal);
          this.#remember(this.#lastSent, commitKey(event), event);
          delivered.push(event);
        } catch (error) {
          if (error instanceof GitHubRateLimitedError || signal?.aborted) {
            rateLimitedFor = error instanceof GitHubRateLimitedError ? error.retryAfterMs : 0;
            this.#logger.warn('GitHub update deferred', {
              ...fields(event),
              reason: errorMessage(error),
            });
            deferred.push({ event, retryAfterMs: rateLimitedFor });
          } else {
            this.#logger.error('GitHub update failed; the pipeline goes on', {
              ...fields(event),
              status: error instanceof GitHubRequestError ? error.status : undefined,
              reason: errorMessage(error),
            });
            failed.push({ event, error });
          }
        }
      }
    }
    return { delivered, superseded, deferred, failed };
  }

  async #send(event: RunStatusEvent, signal?: AbortSignal): Promise<void> {
    const status = commitStatusFor(event);
    await this.#reporter.setCommitStatus(event.repository, event.commit_sha, status, signal);
    this.#logger.info('GitHub commit status set', { ...fields(event), state: status.state });
    const pullRequest = event.github_context.pr_number;
    if (pullRequest === null || pullRequest === undefined) return;
    await this.#upsertSummary(event, pullRequest, signal);
  }

  async #upsertSummary(event: RunStatusEvent, pullRequest: number, signal?: AbortSignal) {
    const body = renderPullRequestSummary(event);
    const known =
      this.#commentIds.get(event.run_id) ??
      (await this.#reporter.findIssueComment(
        event.repository,
        pullRequest,
        summaryMarker(event.run_id),
        signal,
      ));
    if (known !== undefined) {
      try {
        await this.#reporter.updateIssueComment(event.repository, known, body, signal);
        this.#remember(this.#commentIds, event.run_id, known);
        return;
      } catch (error) {
        // Someone deleted the comment: post it again below.
        if (!(error instanceof GitHubRequestError && error.status === 404)) throw error;
        this.#commentIds.delete(event.run_id);
      }
    }
    const created = await this.#reporter.createIssueComment(
      event.repository,
      pullRequest,
      body,
      signal,
    );
    this.#remember(this.#commentIds, event.run_id, created);
  }

  /** Sets `key` as the most recent entry, forgetting the oldest beyond the limit. */
  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.#remembered) map.delete(map.keys().next().value as string);
  }
}

function fields(event: RunStatusEvent): Record<string, unknown> {
  return {
    runId: event.run_id,
    repository: event.repository,
    commitSha: event.commit_sha,
    point: event.point,
    runStatus: event.run_status,
    sequence: event.sequence,
  };
}
