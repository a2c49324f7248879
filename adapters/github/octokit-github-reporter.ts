import { Octokit } from '@octokit/rest';
import { errorMessage } from '../../core/errors.js';
import type { CommitStatus } from '../../core/github/commit-status.js';
import {
  GitHubError,
  GitHubRateLimitedError,
  GitHubRequestError,
} from '../../core/github/github-errors.js';
import type { GitHubReporter } from '../../core/github/github-reporter.js';
import { rateLimitDelayMs } from '../../core/github/rate-limit.js';
import { silentFanOutLogger, type FanOutLogger } from '../../core/github/status-fan-out.js';
import { backoffDelay } from '../../core/retry.js';

/** Options of {@link OctokitGitHubReporter}. */
export interface OctokitGitHubReporterOptions {
  /** The token of every request (read per request, so a rotated secret is picked up). */
  readonly token: () => Promise<string>;
  /** `https://api.github.com`, or a GitHub Enterprise Server's `https://host/api/v3`. */
  readonly baseUrl: string;
  /** Longest total wait for rate limits within one call; beyond it the call is deferred. */
  readonly maxRateLimitWaitMs: number;
  /** Timeout of one HTTP request; default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Further attempts after a 5xx or network failure, 0.5 s then 1 s apart; default 2. */
  readonly serverErrorRetries?: number;
  readonly logger?: FanOutLogger;
}

/** Rate-limit waits within one call: GitHub may refuse again right after its named time. */
const MAX_RATE_LIMIT_ATTEMPTS = 4;

/**
 * The {@link GitHubReporter} on Octokit (REST API). A 403/429 rate-limit answer is waited out
 * for the time GitHub names (`retry-after`, or `x-ratelimit-reset` when
 * `x-ratelimit-remaining` is 0) as long as the call's total wait stays within
 * `maxRateLimitWaitMs`; beyond that it throws `GitHubRateLimitedError` at once. 5xx and network
 * failures are tried again twice with a short backoff; everything else throws
 * `GitHubRequestError` with GitHub's message and status.
 */
export class OctokitGitHubReporter implements GitHubReporter {
  readonly #octokit: Octokit;
  readonly #options: Required<Omit<OctokitGitHubReporterOptions, 'token' | 'logger'>>;
  readonly #logger: FanOutLogger;

  constructor(options: OctokitGitHubReporterOptions) {
    this.#options = {
      baseUrl: options.baseUrl,
      maxRateLimitWaitMs: options.maxRateLimitWaitMs,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      serverErrorRetries: options.serverErrorRetries ?? 2,
    };
    this.#logger = options.logger ?? silentFanOutLogger;
    this.#octokit = new Octokit({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      userAgent: 'catalyst-forge-pipeline',
      // Octokit's own request log would repeat what the fan-out logs once, with context.
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    this.#octokit.hook.before('request', async (request) => {
      request.headers.authorization = `token ${await options.token()}`;
    });
  }

  async setCommitStatus(
    repository: string,
    sha: string,
    status: CommitStatus,
    signal?: AbortSignal,
  ): Promise<void> {
    const { owner, repo } = split(repository);
    await this.#call('create commit status', signal, (request) =>
      this.#octokit.rest.repos.createCommitStatus({
        owner,
        repo,
        sha,
        state: status.state,
        description: status.description,
        context: status.context,
        ...(status.targetUrl === null ? {} : { target_url: status.targetUrl }),
        request,
      }),
    );
  }

  async findIssueComment(
    repository: string,
    issueNumber: number,
    marker: string,
    signal?: AbortSignal,
  ): Promise<number | undefined> {
    const { owner, repo } = split(repository);
    const parameters = { owner, repo, issue_number: issueNumber, per_page: 100 };
    for (let page = 1; ; page++) {
      const { data } = await this.#call('list issue comments', signal, (request) =>
        this.#octokit.rest.issues.listComments({ ...parameters, page, request }),
      );
      const found = data.find((comment) => comment.body?.includes(marker));
      if (found) return found.id;
      if (data.length < parameters.per_page) return undefined;
    }
  }

  async createIssueComment(
    repository: string,
    issueNumber: number,
    body: string,
    signal?: AbortSignal,
  ): Promise<number> {
    const { owner, repo } = split(repository);
    const { data } = await this.#call('create issue comment', signal, (request) =>
      this.#octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: issueNumber,
        body,
        request,
      }),
    );
    return data.id;
  }

  async updateIssueComment(
    repository: string,
    commentId: number,
    body: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const { owner, repo } = split(repository);
    await this.#call('update issue comment', signal, (request) =>
      this.#octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: commentId,
        body,
        request,
      }),
    );
  }

  /** Runs one API call with the timeout, rate-limit waits and 5xx retries described above. */
  async #call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (request: { signal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    let waitedMs = 0;
    let rateLimited = 0;
    let serverErrors = 0;
    for (;;) {
      signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs);
      try {
        return await call({ signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      } catch (error) {
        signal?.throwIfAborted();
        // Ours, from the token hook (an unreadable token secret): GitHub was not asked.
        if (error instanceof GitHubError) throw error;
        const failure = describe(error);
        const { status, headers, message } = failure;
        const delayMs =
          status === undefined
            ? undefined
            : rateLimitDelayMs({ status, headers, message }, Date.now());
        if (delayMs !== undefined) {
          rateLimited++;
          if (
            waitedMs + delayMs > this.#options.maxRateLimitWaitMs ||
            rateLimited >= MAX_RATE_LIMIT_ATTEMPTS
          ) {
            throw new GitHubRateLimitedError(operation, delayMs, { cause: error });
          }
          this.#logger.warn('GitHub rate limit: waiting the time it names', { operation, delayMs });
          waitedMs += delayMs;
          await sleep(delayMs, signal);
          continue;
        }
        const transient = failure.status === undefined || failure.status >= 500;
        if (transient && serverErrors < this.#options.serverErrorRetries) {
          serverErrors++;
          await sleep(backoffDelay(serverErrors, { baseDelayMs: 500, jitterMs: 100 }), signal);
          continue;
        }
        throw new GitHubRequestError(operation, failure.status, failure.message, { cause: error });
      }
    }
  }
}

interface FailureDescription {
  readonly status: number | undefined;
  readonly headers: Record<string, string | number | undefined>;
  readonly message: string;
}

/** Reads an Octokit `RequestError` structurally; no response means the network failed. */
function describe(error: unknown): FailureDescription {
  const { response, message } = error as {
    response?: {
      status?: number;
      headers?: Record<string, string | number | undefined>;
      data?: unknown;
    };
    message?: string;
  };
  if (!response || typeof response.status !== 'number') {
    return { status: undefined, headers: {}, message: errorMessage(error) };
  }
  const data = response.data as { message?: unknown } | undefined;
  return {
    status: response.status,
    headers: response.headers ?? {},
    message: typeof data?.message === 'string' ? data.message : (message ?? 'request failed'),
  };
}

function split(repository: string): { owner: string; repo: string } {
  const [owner = '', repo = ''] = repository.split('/');
  return { owner, repo };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
