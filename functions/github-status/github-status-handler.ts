import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunStatusEventSchema, type RunStatusEvent } from '../../core/contracts/status-events.js';
import { errorMessage } from '../../core/errors.js';
import { GitHubRateLimitedError } from '../../core/github/github-errors.js';
import type { FanOutLogger, StatusEventDelivery } from '../../core/github/status-fan-out.js';

/** What the handler needs: the fan-out, a logger and, in Lambda, Powertools metrics. */
export interface GitHubStatusHandlerDependencies {
  readonly delivery: StatusEventDelivery;
  readonly logger: FanOutLogger;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** Time kept back from the Lambda deadline to answer; default 5 s. */
  readonly deadlineMarginMs?: number;
}

/**
 * The GitHub status fan-out's SQS batch handler (before middy). It parses every message as a
 * `RunStatusEvent`, hands the batch to the fan-out (which coalesces it to the newest event per
 * commit), and answers a partial batch response: only events deferred for GitHub's rate limit
 * (or for the Lambda's deadline) are reported in `batchItemFailures`, so SQS delivers them again
 * after the visibility timeout. Delivered, superseded and failed events (4xx, 5xx after retries)
 * and malformed messages are all acknowledged: a GitHub failure never fails a pipeline, and
 * redelivering a message GitHub refused would only fail again. It never throws for GitHub.
 */
export function createGitHubStatusHandler(dependencies: GitHubStatusHandlerDependencies) {
  const { delivery, logger, metrics } = dependencies;
  const marginMs = dependencies.deadlineMarginMs ?? 5000;
  const count = (name: string, value: number) => {
    if (value > 0) metrics?.addMetric(name, MetricUnit.Count, value);
  };

  return async function githubStatusHandler(
    event: SQSEvent,
    context: Context,
  ): Promise<SQSBatchResponse> {
    const events = new Map<string, RunStatusEvent>();
    for (const record of event.Records) {
      const parsed = parseRecord(record);
      if (parsed.success) {
        events.set(record.messageId, parsed.event);
      } else {
        logger.error('dropping a malformed status event', {
          messageId: record.messageId,
          reason: parsed.reason,
        });
      }
    }
    count('StatusEventsMalformed', event.Records.length - events.size);
    const deadline = AbortSignal.timeout(
      Math.max(1000, context.getRemainingTimeInMillis() - marginMs),
    );
    const result = await delivery.deliver([...events.values()], deadline);
    count('GitHubUpdatesDelivered', result.delivered.length);
    count('StatusEventsSuperseded', result.superseded.length);
    count('GitHubUpdatesDeferred', result.deferred.length);
    count('GitHubUpdatesFailed', result.failed.length);
    const retryAfter = new Map(
      result.deferred.map(({ event, retryAfterMs }) => [event, retryAfterMs]),
    );

    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event,
      (record: SQSRecord) => {
        const statusEvent = events.get(record.messageId);
        const waitMs = statusEvent === undefined ? undefined : retryAfter.get(statusEvent);
        if (waitMs !== undefined) throw new GitHubRateLimitedError('status update', waitMs);
      },
      processor,
      { context, throwOnFullBatchFailure: false },
    );
  };
}

function parseRecord(
  record: SQSRecord,
): { success: true; event: RunStatusEvent } | { success: false; reason: string } {
  try {
    const parsed = RunStatusEventSchema.safeParse(JSON.parse(record.body));
    if (parsed.success) return { success: true, event: parsed.data };
    const issue = parsed.error.issues[0];
    return { success: false, reason: `${issue?.path.join('.')}: ${issue?.message}` };
  } catch (error) {
    return { success: false, reason: errorMessage(error) };
  }
}
