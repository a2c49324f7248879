import { assertNever } from '../../core/assert-never.js';
import type { JobStatusChanges } from '../../core/ports/job-store.js';
import { JobStatus, type TerminalJobStatus } from '../../core/statuses.js';
import type { JobOutcome } from './job-handler.js';
import { JobStopReason } from './job-worker-errors.js';

/** The error recorded on a job whose message deadline passed. */
export const DEADLINE_EXCEEDED = 'deadline exceeded';

/** The terminal status to record for a job, with the fields that go with it. */
export interface TerminalRecord {
  readonly status: TerminalJobStatus;
  readonly changes: JobStatusChanges;
}

/**
 * What to do once a handler returned: record a terminal status, hand the message back, or
 * leave everything to the worker that took the job over. A `completed` outcome is always
 * recorded (the work is done, whatever stopped it). Otherwise the reason the job was stopped
 * wins over what the handler made of it: a cancel request ends it `cancelled`, a passed
 * deadline `failed` with {@link DEADLINE_EXCEEDED}, a shutdown hands it back unrecorded, so
 * that another worker runs it again, and a lost ownership records and hands back nothing
 * (`leave`): the new owner runs the job and its message.
 */
export function decideTerminalRecord(
  outcome: JobOutcome,
  stopReason: JobStopReason | undefined,
): TerminalRecord | 'hand-back' | 'leave' {
  if (outcome.status === 'completed') {
    return { status: JobStatus.completed, changes: withResult({}, outcome.resultLocation) };
  }
  switch (stopReason) {
    case JobStopReason.workerShutdown:
      return 'hand-back';
    case JobStopReason.ownershipLost:
      return 'leave';
    case JobStopReason.cancelRequested:
      return {
        status: JobStatus.cancelled,
        changes: { error: outcome.status === 'cancelled' ? outcome.reason : 'cancel requested' },
      };
    case JobStopReason.deadlineExceeded:
      return { status: JobStatus.failed, changes: { error: DEADLINE_EXCEEDED } };
    case undefined:
      return outcome.status === 'failed'
        ? {
            status: JobStatus.failed,
            changes: withResult({ error: outcome.error }, outcome.resultLocation),
          }
        : { status: JobStatus.cancelled, changes: { error: outcome.reason } };
    default:
      return assertNever(stopReason, 'job stop reason');
  }
}

function withResult(changes: JobStatusChanges, resultLocation?: string): JobStatusChanges {
  return resultLocation === undefined ? changes : { ...changes, result_location: resultLocation };
}
