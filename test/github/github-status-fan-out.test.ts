import { describe, expect, it } from 'vitest';
import { OctokitGitHubReporter } from '../../adapters/github/octokit-github-reporter.js';
import type { FanOutLogger } from '../../core/github/status-fan-out.js';
import { GitHubStatusFanOut } from '../../core/github/status-fan-out.js';
import { summaryMarker } from '../../core/github/pull-request-summary.js';
import {
  COMMIT_SHA,
  REPOSITORY,
  RUN_ID,
  statusEvent,
  successfulRunEvents,
} from '../../core/github/testing/status-event-fixture.js';
import { LocalGitHub } from './local-github-server.js';

const STATUS_PATH = `/repos/${REPOSITORY}/statuses/${COMMIT_SHA}`;
const RATE_LIMITED = {
  message: 'API rate limit exceeded for installation ID 1.',
  documentation_url:
    'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
};

/** A logger keeping what it was told, for assertions. */
function recordingLogger() {
  const entries: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: FanOutLogger = {
    info: (message, fields) => entries.push({ level: 'info', message, fields }),
    warn: (message, fields) => entries.push({ level: 'warn', message, fields }),
    error: (message, fields) => entries.push({ level: 'error', message, fields }),
  };
  return { logger, entries };
}

function fanOutFor(github: LocalGitHub, options: { maxRateLimitWaitMs?: number } = {}) {
  const { logger, entries } = recordingLogger();
  const reporter = new OctokitGitHubReporter({
    token: () => Promise.resolve('ghs_localtesttoken'),
    baseUrl: github.url,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 5000,
    requestTimeoutMs: 5000,
    logger,
  });
  return { fanOut: new GitHubStatusFanOut({ reporter, logger }), entries };
}

describe('GitHubStatusFanOut with Octokit against a local GitHub', () => {
  it('sets a commit status with the text of each point of a run', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github);

    for (const event of successfulRunEvents()) await fanOut.deliver([event]);

    const statuses = github.statusRequests();
    expect(statuses.map((request) => [request.method, request.path])).toEqual(
      Array.from({ length: 5 }, () => ['POST', STATUS_PATH]),
    );
    expect(
      statuses.map((request) => [request.body?.['state'], request.body?.['description']]),
    ).toEqual([
      ['pending', 'Pipeline started - discovering projects...'],
      ['pending', 'Running phase 1 of 3'],
      ['pending', 'Running phase 2 of 3 (33% complete)'],
      ['pending', 'Running phase 3 of 3 (66% complete)'],
      ['success', 'Pipeline succeeded in 3m 25s'],
    ]);
    expect(statuses[0]?.body).toMatchObject({
      context: 'ci/catalyst-forge',
      target_url: `https://argo.example.com/workflows/forge/${RUN_ID}`,
    });
    expect(statuses[0]?.authorization).toBe('token ghs_localtesttoken');
  });

  it('reports a failure naming the step, and a cancellation, as GitHub failure and error', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github);
    const failed = statusEvent({
      point: 'completed',
      run_status: 'failed',
      sequence: 5,
      completed_at: '2025-03-01T10:01:00.000Z',
      failure: { phase: 'test', project: 'api', step: 'unit', message: 'exit code 1' },
    });
    const cancelled = statusEvent({
      commit_sha: 'b'.repeat(40),
      point: 'completed',
      run_status: 'cancelled',
      completed_at: '2025-03-01T10:01:00.000Z',
    });

    await fanOut.deliver([failed, cancelled]);

    expect(github.statusRequests().map((request) => request.body)).toEqual([
      expect.objectContaining({
        state: 'failure',
        description: 'Pipeline failed at test / api / unit: exit code 1',
      }),
      expect.objectContaining({ state: 'error', description: 'Pipeline cancelled' }),
    ]);
  });

  it('posts one pull-request summary, then edits it, also after a restart', async () => {
    const github = await LocalGitHub.start();
    github.seedComments(
      REPOSITORY,
      42,
      Array.from({ length: 120 }, (_, i) => `review ${i}`),
    );
    const events = successfulRunEvents({
      github_context: { context: 'ci/catalyst-forge', pr_number: 42 },
    });
    const first = fanOutFor(github);

    for (const event of events.slice(0, 3)) await first.fanOut.deliver([event]);
    const restarted = fanOutFor(github);
    for (const event of events.slice(3)) await restarted.fanOut.deliver([event]);

    const commentCalls = github.requests.filter((request) => request.path.includes('/comments'));
    expect(commentCalls.filter((request) => request.method === 'POST')).toHaveLength(1);
    expect(commentCalls.filter((request) => request.method === 'PATCH')).toHaveLength(4);
    // One search before the first post, one after the restart: two pages each (120 + ours).
    expect(commentCalls.filter((request) => request.method === 'GET')).toHaveLength(4);
    const ours = github.comments
      .get(`${REPOSITORY}#42`)
      ?.filter((c) => c.body.includes(summaryMarker(RUN_ID)));
    expect(ours).toHaveLength(1);
    expect(ours?.[0]?.body).toContain('**Status:** ✅ success');
    expect(ours?.[0]?.body).toContain('**Duration:** 3m 25s');
  });

  it('waits out a 403 rate limit until its reset, then sends', async () => {
    const github = await LocalGitHub.start();
    const { fanOut, entries } = fanOutFor(github);
    const resetAt = Math.ceil(Date.now() / 1000) + 1;
    github.answerNext({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetAt) },
      body: RATE_LIMITED,
    });

    const result = await fanOut.deliver([statusEvent()]);

    const [refused, retried] = github.statusRequests();
    expect(result.delivered).toHaveLength(1);
    expect(retried?.at).toBeGreaterThanOrEqual(resetAt * 1000);
    expect(retried?.body).toEqual(refused?.body);
    expect(entries.some((entry) => entry.message.includes('rate limit'))).toBe(true);
  });

  it('waits the retry-after of a 429, then sends', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github);
    github.answerNext({ status: 429, headers: { 'retry-after': '1' }, body: RATE_LIMITED });

    const result = await fanOut.deliver([statusEvent()]);

    const [refused, retried] = github.statusRequests();
    expect(result.delivered).toHaveLength(1);
    expect((retried?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('defers the whole batch when the named wait exceeds the maximum, sending nothing more', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github, { maxRateLimitWaitMs: 1000 });
    github.answerNext({ status: 403, headers: { 'retry-after': '120' }, body: RATE_LIMITED });
    const other = statusEvent({ commit_sha: 'c'.repeat(40) });

    const result = await fanOut.deliver([statusEvent(), other]);

    expect(result.deferred.map((deferred) => deferred.retryAfterMs)).toEqual([120_000, 120_000]);
    expect(github.requests).toHaveLength(1);
  });

  it('logs a 500 and goes on, after two more attempts', async () => {
    const github = await LocalGitHub.start();
    const { fanOut, entries } = fanOutFor(github);
    const serverError = { status: 500, body: { message: 'Server Error' } };
    github.answerNext(serverError, serverError, serverError);
    const next = statusEvent({ commit_sha: 'd'.repeat(40) });

    const result = await fanOut.deliver([statusEvent(), next]);

    expect(result.failed.map(({ event }) => event.commit_sha)).toEqual([statusEvent().commit_sha]);
    expect(result.delivered).toEqual([next]);
    expect(github.statusRequests()).toHaveLength(4);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ status: 500, runId: RUN_ID }),
      }),
    );
  });

  it('coalesces five events of one commit into one status call with the latest text', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github);
    const events = successfulRunEvents();

    const result = await fanOut.deliver(
      [events[3], events[0], events[4], events[1], events[2]].map((e) => e!),
    );

    expect(github.statusRequests().map((request) => request.body?.['description'])).toEqual([
      'Pipeline succeeded in 3m 25s',
    ]);
    expect(result.superseded).toHaveLength(4);
  });

  it('never moves a commit backwards when an older event arrives late', async () => {
    const github = await LocalGitHub.start();
    const { fanOut } = fanOutFor(github);
    const [created, discovered] = successfulRunEvents();

    await fanOut.deliver([discovered!]);
    const late = await fanOut.deliver([created!]);

    expect(late.superseded).toEqual([created]);
    expect(github.statusRequests()).toHaveLength(1);
  });
});
