/**
 * `JobStatusWait` with a FAKE change signal, which stands for a store that wakes its waiters at
 * once whatever the status (as the embedded store does once it is closing): what is counted is
 * how often the signal is waited on.
 */
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../core/contracts/jobs.js';
import { newJobRecord } from '../../core/job-plane/job-record-changes.js';
import type { JobChangeSignal } from '../../core/ports/job-store.js';
import type { JobStatus } from '../../core/statuses.js';
import { JobStatusWait } from '../../dispatcher/job-status-wait.js';

const JOB_ID = 'run-1/discovery';

function record(status: JobStatus): JobRecord {
  return {
    ...newJobRecord({ job_id: JOB_ID, run_id: 'run-1', type: 'discovery' }, new Date()),
    status,
  };
}

/** A signal that answers every wait at once, and counts the waits. */
function wakingAtOnce(): JobChangeSignal & { readonly waits: JobStatus[] } {
  const waits: JobStatus[] = [];
  return {
    waits,
    nextStatusChange: (_jobId, _signal, seenStatus) => {
      waits.push(seenStatus);
      return Promise.resolve();
    },
  };
}

describe('JobStatusWait', () => {
  it('stops waiting on a signal that woke it though the status stayed', async () => {
    // Arrange
    const signal = wakingAtOnce();
    const wait = new JobStatusWait(JOB_ID, signal);
    const running = record('running');

    // Act
    await wait.pause(running, 20);
    await wait.pause(running, 20);
    await wait.pause(running, 20);

    // Assert
    expect(signal.waits).toEqual(['running']);
  });

  it('keeps waiting on the signal while each wake-up brought a new status', async () => {
    // Arrange
    const signal = wakingAtOnce();
    const wait = new JobStatusWait(JOB_ID, signal);

    // Act
    await wait.pause(record('pending'), 60_000);
    await wait.pause(record('running'), 60_000);
    await wait.pause(record('completed'), 60_000);

    // Assert
    expect(signal.waits).toEqual(['pending', 'running', 'completed']);
  });

  it('ends a pause when the caller aborts, whether or not there is a signal', async () => {
    // Arrange
    const stop = new AbortController();
    const never: JobChangeSignal = {
      nextStatusChange: (_jobId, signal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve())),
    };
    const waits = [new JobStatusWait(JOB_ID, never), new JobStatusWait(JOB_ID, undefined)];

    // Act
    const pauses = waits.map((wait) => wait.pause(record('running'), 60_000, stop.signal));
    stop.abort();
    const ended = await Promise.race([
      Promise.all(pauses).then(() => 'ended'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
    ]);

    // Assert
    expect(ended).toBe('ended');
  });
});
