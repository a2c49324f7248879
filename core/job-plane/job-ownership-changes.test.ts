import { describe, expect, it } from 'vitest';
import { taskJobId, type JobRecord } from '../contracts/jobs.js';
import { JobStatus } from '../statuses.js';
import { checkJobClaimRequest, decideJobClaim, ownsRunningJob } from './job-ownership-changes.js';
import { JobRecordFormatError, newJobRecord } from './job-record-changes.js';

const jobId = taskJobId('run-1', 'build', 'api');
const created = new Date('2026-03-01T10:00:00.000Z');
const pending = newJobRecord({ job_id: jobId, run_id: 'run-1', type: 'task' }, created);
const timeoutMs = 30_000;
const request = { workerId: 'worker-b', heartbeatTimeoutMs: timeoutMs };

/** `seconds` after the job was created. */
function at(seconds: number): Date {
  return new Date(created.getTime() + seconds * 1000);
}

/** The job running under `worker-a`, started at 1 s, with its last heartbeat at `beat` s. */
function runningUnderA(beat: number | undefined, changes: Partial<JobRecord> = {}): JobRecord {
  return {
    ...pending,
    status: JobStatus.running,
    worker_id: 'worker-a',
    started_at: at(1).toISOString(),
    updated_at: at(1).toISOString(),
    ...(beat === undefined ? {} : { heartbeat_at: at(beat).toISOString() }),
    ...changes,
  };
}

describe('decideJobClaim', () => {
  it('claims a pending job, stamping its start, heartbeat and update with the time of the claim', () => {
    const decision = decideJobClaim(pending, request, at(5));

    expect(decision).toEqual({
      outcome: 'claimed',
      write: {
        status: 'running',
        worker_id: 'worker-b',
        heartbeat_at: at(5).toISOString(),
        updated_at: at(5).toISOString(),
        started_at: at(5).toISOString(),
      },
    });
  });

  it('holds a running job while its owner heartbeats within the timeout, up to the last millisecond', () => {
    const job = runningUnderA(20);
    const lastHeld = new Date(at(20).getTime() + timeoutMs - 1);

    const soon = decideJobClaim(job, request, at(21));
    const atTheEdge = decideJobClaim(job, request, lastHeld);

    expect(soon).toEqual({ outcome: 'held' });
    expect(atTheEdge).toEqual({ outcome: 'held' });
  });

  it('takes over a running job once its last heartbeat is a whole timeout old, keeping its start', () => {
    const job = runningUnderA(20);
    const stale = new Date(at(20).getTime() + timeoutMs);

    const decision = decideJobClaim(job, request, stale);

    expect(decision).toEqual({
      outcome: 'taken-over',
      write: {
        status: 'running',
        worker_id: 'worker-b',
        heartbeat_at: stale.toISOString(),
        updated_at: stale.toISOString(),
        started_at: at(1).toISOString(),
      },
    });
  });

  it('judges an owner without a heartbeat by its start, and without a start by its last update', () => {
    const noHeartbeat = runningUnderA(undefined, { updated_at: at(50).toISOString() });
    const { started_at: _start, ...noStart } = runningUnderA(undefined, {
      updated_at: at(50).toISOString(),
    });

    // 50 s after the start (at 1 s), but 1 s after the last update (at 50 s).
    const byStart = decideJobClaim(noHeartbeat, request, at(51));
    const byUpdate = decideJobClaim(noStart, request, at(51));

    expect(byStart.outcome).toBe('taken-over');
    expect(byUpdate.outcome).toBe('held');
  });

  it('takes a running job its owner gave up at once, however fresh its last update', () => {
    const { worker_id: _owner, heartbeat_at: _beat, ...released } = runningUnderA(20);

    const decision = decideJobClaim(released, request, at(21));

    expect(decision.outcome).toBe('taken-over');
  });

  it('never starts nor takes over a job whose cancellation was asked for', () => {
    const pendingCancelled = { ...pending, cancel_requested: true };
    const staleCancelled = runningUnderA(1, { cancel_requested: true });

    const beforeStart = decideJobClaim(pendingCancelled, request, at(2));
    const whileStale = decideJobClaim(staleCancelled, request, at(600));

    expect(beforeStart).toEqual({ outcome: 'cancel-requested' });
    expect(whileStale).toEqual({ outcome: 'cancel-requested' });
  });

  it('reports every ended job as ended, cancellation asked or not', () => {
    const ended = [JobStatus.completed, JobStatus.failed, JobStatus.cancelled].map((status) =>
      runningUnderA(1, { status, cancel_requested: status === JobStatus.cancelled }),
    );

    const decisions = ended.map((job) => decideJobClaim(job, request, at(600)));

    expect(decisions).toEqual([{ outcome: 'ended' }, { outcome: 'ended' }, { outcome: 'ended' }]);
  });

  it('refuses a claim without a worker id or with a timeout that is not a positive integer', () => {
    const claims = [
      { workerId: '', heartbeatTimeoutMs: timeoutMs },
      { workerId: 'worker-b', heartbeatTimeoutMs: 0 },
      { workerId: 'worker-b', heartbeatTimeoutMs: 1.5 },
    ];

    for (const claim of claims) {
      expect(() => decideJobClaim(pending, claim, at(5))).toThrow(JobRecordFormatError);
      expect(() => checkJobClaimRequest(jobId, claim)).toThrow(
        new RegExp(`the claim of job ${jobId} is invalid`),
      );
    }
    expect(() => checkJobClaimRequest(jobId, request)).not.toThrow();
  });
});

describe('ownsRunningJob', () => {
  it('holds only for the worker named by a running job', () => {
    const running = runningUnderA(20);
    const completed = runningUnderA(20, { status: JobStatus.completed });

    expect(ownsRunningJob(running, 'worker-a')).toBe(true);
    expect(ownsRunningJob(running, 'worker-b')).toBe(false);
    expect(ownsRunningJob(completed, 'worker-a')).toBe(false);
    expect(ownsRunningJob(pending, 'worker-a')).toBe(false);
  });
});
