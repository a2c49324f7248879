import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import type {
  JobStreamEvent,
  JobStreamRecord,
  StreamBatchResponse,
} from '../../core/contracts/job-stream.js';
import type { JobRecord } from '../../core/contracts/jobs.js';
import type { DiscoveryOutput } from '../../core/contracts/discovery-output.js';
import { errorMessage } from '../../core/errors.js';
import { recordLogFields } from '../../core/job-plane/change-feed-delivery.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { RunProgressStore } from '../../core/ports/run-repository.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';
import { applyJobRecord } from '../../core/run-progress/apply-job-record.js';
import { isHeartbeatOnlyChange } from '../../core/run-progress/heartbeat-only-change.js';
import { RunNotDiscoveredError } from '../../core/run-progress/run-progress-errors.js';
import { JobStatus, JobType } from '../../core/statuses.js';
import { parseJobImage } from './parse-job-image.js';
import { readDiscoveryResult } from './read-discovery-result.js';

/** The small logger the reconciler writes to; Powertools' Logger fits. */
export interface ReconcilerLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const silentLogger: ReconcilerLogger = { debug: () => undefined, warn: () => undefined };

/** What the reconciler works with. */
export interface StreamReconcilerDeps {
  /** Where runs' progress is kept (`PostgresRunRepository`). */
  readonly runs: RunProgressStore;
  /** The results bucket, where discovery outputs are. */
  readonly results: Pick<BlobStore, 'get' | 'bucket'>;
  /** Where status events go on their way to GitHub. */
  readonly sink: StatusEventSink;
  readonly logger?: ReconcilerLogger;
}

/**
 * What became of one change record: `ignored` when it changes no run (a `REMOVE`, an artifact
 * job, a heartbeat-only change).
 */
export type RecordOutcome = 'applied' | 'ignored';

/**
 * The stream reconciler (DESIGN.md section 1): turns the change records of the jobs table into
 * the runs' progress in Postgres. For each record, the job record of its new image is applied
 * to its run by the core rules (`applyJobRecord`) in one transaction; a completed discovery
 * brings the run's plan, read from the results bucket; the status events the change produced
 * are then sent. Records are applied one after another, and applying a record twice, or a
 * batch in another order, leaves the same state, so redelivery is harmless. A heartbeat-only
 * change (`isHeartbeatOnlyChange`: a running job's `heartbeat_at` moved, nothing the progress
 * rules read) is skipped before any database work: it costs no transaction and sends nothing.
 *
 * A record that cannot be applied (a malformed image, a job of an unknown run, a database
 * outage) is reported as a batch item failure while the rest of the batch applies: by
 * `eventID` to change feeds ({@link StreamReconciler.handleBatch}), by sequence number to
 * Lambda ({@link StreamReconciler.handleLambdaEvent}).
 */
export class StreamReconciler {
  readonly #deps: Required<StreamReconcilerDeps>;

  constructor(deps: StreamReconcilerDeps) {
    this.#deps = { logger: silentLogger, ...deps };
  }

  /** The handler for change feeds (`JobChangeFeed.subscribe`): failures named by `eventID`. */
  readonly handleBatch = async (event: JobStreamEvent): Promise<StreamBatchResponse> => {
    const eventIds = new Map(
      event.Records.map((record) => [record.dynamodb.SequenceNumber, record.eventID]),
    );
    const response = await this.handleLambdaEvent(event);
    return {
      batchItemFailures: response.batchItemFailures.map((failure) => ({
        itemIdentifier: eventIds.get(failure.itemIdentifier) ?? failure.itemIdentifier,
      })),
    };
  };

  /**
   * Handles a Lambda DynamoDB Streams event: failures named by sequence number, as Lambda's
   * partial batch response for streams expects.
   */
  async handleLambdaEvent(event: JobStreamEvent, context?: Context): Promise<StreamBatchResponse> {
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    return processPartialResponse(
      { Records: event.Records as unknown as DynamoDBRecord[] },
      (record: DynamoDBRecord) => this.applyRecord(record as unknown as JobStreamRecord),
      processor,
      {
        ...(context === undefined ? {} : { context }),
        processInParallel: false,
        throwOnFullBatchFailure: false,
      },
    );
  }

  /** Applies one change record; throws when it cannot be applied. */
  async applyRecord(record: JobStreamRecord): Promise<RecordOutcome> {
    try {
      if (isHeartbeatOnlyChange(record)) return 'ignored';
      const job = parseJobImage(record);
      if (job === undefined || job.type === JobType.artifact) return 'ignored';
      await this.#apply(job);
      await this.#deps.runs.flushStatusEvents(this.#deps.sink, job.run_id);
      return 'applied';
    } catch (error) {
      this.#deps.logger.warn('change record not applied', {
        ...recordLogFields(record),
        error: errorMessage(error),
      });
      throw error;
    }
  }

  async #apply(job: JobRecord): Promise<void> {
    const completedDiscovery = job.type === JobType.discovery && job.status === JobStatus.completed;
    let discovery: DiscoveryOutput | undefined = completedDiscovery
      ? await this.#readDiscovery(job)
      : undefined;
    try {
      await this.#deps.runs.updateProgress(job.run_id, (draft) =>
        applyJobRecord(draft, job, discovery),
      );
    } catch (error) {
      // A task's record overtook its run's discovery: the plan comes from the result itself.
      if (!(error instanceof RunNotDiscoveredError) || discovery !== undefined) throw error;
      discovery = await this.#readDiscovery(job);
      await this.#deps.runs.updateProgress(job.run_id, (draft) =>
        applyJobRecord(draft, job, discovery),
      );
    }
  }

  #readDiscovery(job: JobRecord): Promise<DiscoveryOutput> {
    this.#deps.logger.debug('reading the discovery result', { runId: job.run_id });
    return readDiscoveryResult(
      this.#deps.results,
      job.run_id,
      job.type === JobType.discovery ? job.result_location : undefined,
    );
  }
}
