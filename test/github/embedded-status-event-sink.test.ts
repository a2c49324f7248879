import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStatusEventSink } from '../../adapters/embedded/embedded-status-event-sink.js';
import { OctokitGitHubReporter } from '../../adapters/github/octokit-github-reporter.js';
import { GitHubStatusFanOut, type FanOutLogger } from '../../core/github/status-fan-out.js';
import {
  statusEvent,
  successfulRunEvents,
} from '../../core/github/testing/status-event-fixture.js';
import { LocalGitHub } from './local-github-server.js';

const sinks: EmbeddedStatusEventSink[] = [];
afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close();
});

function sinkFor(github: LocalGitHub, maxRateLimitWaitMs = 5000) {
  const errors: string[] = [];
  const logger: FanOutLogger = {
    info: () => undefined,
    warn: () => undefined,
    error: (message) => errors.push(message),
  };
  const reporter = new OctokitGitHubReporter({
    token: () => Promise.resolve('ghs_localtesttoken'),
    baseUrl: github.url,
    maxRateLimitWaitMs,
  });
  const sink = new EmbeddedStatusEventSink({
    delivery: new GitHubStatusFanOut({ reporter, logger }),
    logger,
  });
  sinks.push(sink);
  return { sink, errors };
}

/** Waits until `condition` holds, checking every 50 ms for at most `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 50) {
    if (waited >= timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EmbeddedStatusEventSink', () => {
  it('returns before GitHub is called, then delivers', async () => {
    const github = await LocalGitHub.start();
    const { sink } = sinkFor(github);

    await sink.publish([statusEvent()]);
    const requestsWhenPublished = github.requests.length;
    await sink.idle();

    expect(requestsWhenPublished).toBe(0);
    expect(github.statusRequests()).toHaveLength(1);
  });

  it('sends only the latest state of a commit that moved on while GitHub answered', async () => {
    const github = await LocalGitHub.start();
    const { sink } = sinkFor(github);
    const [created, ...later] = successfulRunEvents();
    github.delayNext(300);

    await sink.publish([created!]);
    await eventually(() => github.requests.length === 1);
    for (const event of later) await sink.publish([event]);
    await sink.idle();

    expect(github.statusRequests().map((request) => request.body?.['description'])).toEqual([
      'Pipeline started - discovering projects...',
      'Pipeline succeeded in 3m 25s',
    ]);
  });

  it('logs a GitHub refusal and keeps delivering', async () => {
    const github = await LocalGitHub.start();
    const { sink, errors } = sinkFor(github);
    github.answerNext({ status: 422, body: { message: 'Validation Failed' } });

    await sink.publish([statusEvent()]);
    await sink.idle();
    await sink.publish([statusEvent({ commit_sha: 'f'.repeat(40) })]);
    await sink.idle();

    expect(errors).toHaveLength(1);
    expect(github.statusRequests().map((request) => request.path)).toEqual([
      expect.stringContaining(statusEvent().commit_sha),
      expect.stringContaining('f'.repeat(40)),
    ]);
  });

  it('offers an event deferred by the rate limit again after the time GitHub named', async () => {
    const github = await LocalGitHub.start();
    const { sink } = sinkFor(github, 100);
    github.answerNext({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { message: 'slow down' },
    });

    await sink.publish([statusEvent()]);
    await sink.idle();
    await eventually(() => github.statusRequests().length === 2);

    const [refused, sent] = github.statusRequests();
    expect((sent?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('drops what is published after close, and closes twice', async () => {
    const github = await LocalGitHub.start();
    const { sink } = sinkFor(github);

    await sink.close();
    await sink.publish([statusEvent()]);
    await sink.idle();
    await sink.close();

    expect(github.requests).toHaveLength(0);
  });
});
