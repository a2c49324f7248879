import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { OctokitGitHubReporter } from '../../adapters/github/octokit-github-reporter.js';
import { GitHubStatusFanOut, silentFanOutLogger } from '../../core/github/status-fan-out.js';
import { createGitHubStatusHandler } from '../../functions/github-status/github-status-handler.js';
import {
  COMMIT_SHA,
  REPOSITORY,
  statusEvent,
  successfulRunEvents,
} from '../../core/github/testing/status-event-fixture.js';
import { LocalGitHub } from './local-github-server.js';

function sqsRecord(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1740823200000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1740823200000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:forge-github-status.fifo',
    awsRegion: 'eu-west-1',
  };
}

function lambdaContext(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'forge-github-status',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:forge-github-status',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/forge-github-status',
    logStreamName: '2025/03/01/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function handlerFor(github: LocalGitHub, maxRateLimitWaitMs = 5000) {
  const reporter = new OctokitGitHubReporter({
    token: () => Promise.resolve('ghs_localtesttoken'),
    baseUrl: github.url,
    maxRateLimitWaitMs,
  });
  const fanOut = new GitHubStatusFanOut({ reporter });
  return createGitHubStatusHandler({ delivery: fanOut, logger: silentFanOutLogger });
}

describe('the GitHub status handler', () => {
  it('sends the latest event of a commit once and acknowledges the whole batch', async () => {
    const github = await LocalGitHub.start();
    const handler = handlerFor(github);
    const records = successfulRunEvents().map((event, index) => sqsRecord(`m${index}`, event));

    const response = await handler({ Records: records.reverse() }, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(github.statusRequests()).toEqual([
      expect.objectContaining({
        path: `/repos/${REPOSITORY}/statuses/${COMMIT_SHA}`,
        body: expect.objectContaining({
          state: 'success',
          description: 'Pipeline succeeded in 3m 25s',
        }),
      }),
    ]);
  });

  it('reports only the latest event of each rate-limited commit for redelivery, and drops malformed ones', async () => {
    const github = await LocalGitHub.start();
    const handler = handlerFor(github, 1000);
    github.answerNext({
      status: 403,
      headers: { 'retry-after': '60' },
      body: { message: 'You have exceeded a secondary rate limit.' },
    });
    const otherCommit = statusEvent({ commit_sha: 'e'.repeat(40) });
    const [created, discovered] = successfulRunEvents();
    const event: SQSEvent = {
      Records: [
        sqsRecord('other', otherCommit),
        sqsRecord('created', created),
        sqsRecord('garbage', '{"run_id": 1'),
        sqsRecord('discovered', discovered),
        sqsRecord('invalid', { ...created, commit_sha: 'not-a-sha' }),
      ],
    };

    const response = await handler(event, lambdaContext());

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      'discovered',
      'other',
    ]);
    expect(github.requests).toHaveLength(1);
  });

  it('resolves without failures when GitHub answers 500', async () => {
    const github = await LocalGitHub.start();
    const handler = handlerFor(github);
    const serverError = { status: 502, body: { message: 'Bad Gateway' } };
    github.answerNext(serverError, serverError, serverError);

    const response = await handler(
      { Records: [sqsRecord('only', statusEvent())] },
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(github.statusRequests()).toHaveLength(3);
  });
});

describe('the deployed handler (middy, Powertools, configuration from the environment)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads FORGE_GITHUB_API_URL and FORGE_GITHUB_TOKEN and sets the status', async () => {
    const github = await LocalGitHub.start();
    process.env['FORGE_GITHUB_API_URL'] = github.url;
    process.env['FORGE_GITHUB_TOKEN'] = 'ghs_fromtheenvironment';
    process.env['POWERTOOLS_LOG_LEVEL'] = 'ERROR';
    process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
    const { handler } = await import('../../functions/github-status/handler.js');

    const response = await handler(
      { Records: [sqsRecord('only', statusEvent())] },
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(github.statusRequests()).toEqual([
      expect.objectContaining({
        authorization: 'token ghs_fromtheenvironment',
        body: expect.objectContaining({
          description: 'Pipeline started - discovering projects...',
        }),
      }),
    ]);
  });
});
