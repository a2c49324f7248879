import { z } from 'zod';
import type { JobRecord } from '../contracts/jobs.js';
import { JobClaimOutcome, type JobClaimRequest } from '../ports/job-store.js';
import { isTerminalJobStatus, JobStatus } from '../statuses.js';
import { JobRecordFormatError } from './job-record-changes.js';

/*
 * Who runs a job, decided once here for every job store (as `job-record-changes.ts` decides
 * status and step writes): the embedded store applies these decisions in one atomic step, the
 * DynamoDB store as writes conditional on the fields the decisions read.
 */

/** The attributes a successful claim sets. */
export interface JobClaimWrite {
  readonly status: typeof JobStatus.running;
  readonly worker_id: string;
  readonly heartbeat_at: string;
  readonly updated_at: string;
  readonly started_at: string;
}

/** A claim decision: the write to make, or the outcome that writes nothing. */
export type JobClaimDecision =
  | {
      readonly outcome: typeof JobClaimOutcome.claimed | typeof JobClaimOutcome.takenOver;
      readonly write: JobClaimWrite;
    }
  | {
      readonly outcome:
        | typeof JobClaimOutcome.held
        | typeof JobClaimOutcome.ended
        | typeof JobClaimOutcome.cancelRequested;
    };

const ClaimRequestSchema = z.object({
  workerId: z.string().min(1),
  heartbeatTimeoutMs: z.number().int().positive(),
});

/**
 * Checks a claim before any store sees it, so a claim can never store a record that could not
 * be read back; throws {@link JobRecordFormatError} naming the job.
 */
export function checkJobClaimRequest(jobId: string, request: JobClaimRequest): void {
  const checked = ClaimRequestSchema.safeParse(request);
  if (!checked.success) {
    throw new JobRecordFormatError(
      `the claim of job ${jobId} is invalid: ${z.prettifyError(checked.error)}`,
    );
  }
}

/**
 * The rule every job store applies to a claim of `current` at `now` (the DynamoDB store as a
 * write conditional on the fields this decision read): an ended job is `ended`; a job whose
 * cancellation was asked for is `cancel-requested` (never started nor taken over); a pending
 * job is `claimed`; a running job without an owner (given up) is `taken-over`; a running job
 * is `held` while its owner's last sign of life (its heartbeat, else its start, else its last
 * update) is younger than the timeout, and `taken-over` from then on. A claim stamps
 * `heartbeat_at`, keeps `started_at` if set, and leaves every other field alone. Throws
 * {@link JobRecordFormatError} for a request the record schema would refuse.
 */
export function decideJobClaim(
  current: JobRecord,
  request: JobClaimRequest,
  now: Date,
): JobClaimDecision {
  checkJobClaimRequest(current.job_id, request);
  if (isTerminalJobStatus(current.status)) return { outcome: JobClaimOutcome.ended };
  if (current.cancel_requested) return { outcome: JobClaimOutcome.cancelRequested };
  const stamp = now.toISOString();
  const write: JobClaimWrite = {
    status: JobStatus.running,
    worker_id: request.workerId,
    heartbeat_at: stamp,
    updated_at: stamp,
    started_at: current.started_at ?? stamp,
  };
  if (current.status === JobStatus.pending) return { outcome: JobClaimOutcome.claimed, write };
  // A running job without an owner was given up (`release`): take it at once.
  if (current.worker_id === undefined) return { outcome: JobClaimOutcome.takenOver, write };
  const lastSign = Date.parse(current.heartbeat_at ?? current.started_at ?? current.updated_at);
  if (now.getTime() - lastSign < request.heartbeatTimeoutMs) {
    return { outcome: JobClaimOutcome.held };
  }
  return { outcome: JobClaimOutcome.takenOver, write };
}

/**
 * Whether `workerId` may record a heartbeat on `current`, or release it: the job is running
 * under it. Once the job ended or another worker took it over, the worker's writes are refused.
 */
export function ownsRunningJob(current: JobRecord, workerId: string): boolean {
  return current.status === JobStatus.running && current.worker_id === workerId;
}
