import { assertNever } from '../core/assert-never.js';
import type { JobMessage, JobMessageOf, JobRecord } from '../core/contracts/jobs.js';
import { queueForJobType, type QueueName } from '../core/job-plane/queue-settings.js';
import type { JobType } from '../core/statuses.js';
import {
  dispatchJob,
  type DispatcherJobStore,
  type DispatcherQueue,
  type PollInterval,
} from './dispatch-job.js';
import type { DispatcherLogger } from './dispatcher-logger.js';
import {
  assertJobsCompleted,
  jobSummary,
  readDiscoveryResult,
  releaseSummary,
  writeDiscoveryOutputs,
  writeJsonFile,
  type DiscoveryOutputFiles,
  type ResultReader,
} from './dispatcher-outputs.js';

/** The slices of the job plane a dispatcher uses; a whole `JobPlane` fits. */
export interface DispatcherPlane {
  readonly jobs: DispatcherJobStore;
  readonly queues: Readonly<Record<QueueName, DispatcherQueue>>;
  readonly blobs: { readonly results: ResultReader };
}

/** What one dispatcher invocation submits, and where its outcome goes. */
export type DispatchRequest =
  | {
      readonly type: typeof JobType.discovery;
      readonly message: JobMessageOf<typeof JobType.discovery>;
      readonly files: DiscoveryOutputFiles;
    }
  | {
      readonly type: typeof JobType.task | typeof JobType.artifact;
      readonly message: JobMessageOf<typeof JobType.task | typeof JobType.artifact>;
      readonly output: string;
    }
  | {
      readonly type: typeof JobType.release;
      /** One job per project; they run in parallel. */
      readonly messages: readonly JobMessageOf<typeof JobType.release>[];
      readonly output: string;
    };

/** Options of {@link runDispatch}. */
export interface RunDispatchOptions {
  readonly plane: DispatcherPlane;
  readonly request: DispatchRequest;
  /** When the dispatcher stops waiting and requests cancellation (see `dispatchJob`). */
  readonly deadline: Date;
  readonly signal?: AbortSignal | undefined;
  readonly logger: DispatcherLogger;
  readonly pollInterval?: PollInterval | undefined;
}

/**
 * What the `forge-dispatcher` commands do once their flags are checked: dispatch the job(s),
 * write what Argo reads, and fail unless every job completed.
 *
 * - discovery: on completion, the discovery output from the results bucket at `output`, and
 *   the extracts that were asked for; nothing when the job did not complete;
 * - task and artifact: the {@link jobSummary} at `output`, whatever the job's end;
 * - release: the {@link releaseSummary} of every project's job at `output`.
 *
 * Throws `DispatchedJobFailedError` (carrying the job's error) when a job failed or was
 * cancelled, after the outputs were written.
 */
export async function runDispatch(options: RunDispatchOptions): Promise<void> {
  const { request, logger } = options;
  switch (request.type) {
    case 'discovery': {
      const record = await dispatch(options, request.message);
      assertJobsCompleted([record]);
      const output = await readDiscoveryResult(options.plane.blobs.results, record);
      await writeDiscoveryOutputs(output, request.files);
      logger.info('discovery output written', {
        jobId: record.job_id,
        output: request.files.output,
        projects: output.projects.length,
        phaseGroups: output.phaseGroups.length,
      });
      return;
    }
    case 'task':
    case 'artifact': {
      const record = await dispatch(options, request.message);
      await writeJsonFile(request.output, jobSummary(record));
      logger.info('job summary written', { jobId: record.job_id, output: request.output });
      assertJobsCompleted([record]);
      return;
    }
    case 'release': {
      const records = await dispatchAll(options, request.messages);
      await writeJsonFile(request.output, releaseSummary(records));
      logger.info('release summary written', { jobs: records.length, output: request.output });
      assertJobsCompleted(records);
      return;
    }
    default:
      return assertNever(request, 'dispatch request');
  }
}

function dispatch(options: RunDispatchOptions, message: JobMessage): Promise<JobRecord> {
  return dispatchJob({
    jobs: options.plane.jobs,
    queue: options.plane.queues[queueForJobType(message.type)],
    message,
    deadline: options.deadline,
    signal: options.signal,
    logger: options.logger,
    pollInterval: options.pollInterval,
  });
}

/** Dispatches every message at once and waits for all; the first failure is thrown after. */
async function dispatchAll(
  options: RunDispatchOptions,
  messages: readonly JobMessage[],
): Promise<JobRecord[]> {
  const settled = await Promise.allSettled(messages.map((message) => dispatch(options, message)));
  const rejected = settled.find((result) => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<JobRecord>).value);
}
