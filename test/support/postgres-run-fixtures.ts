import { randomBytes, randomUUID } from 'node:crypto';
import {
  DiscoveryOutputSchema,
  type DiscoveryOutput,
} from '../../core/contracts/discovery-output.js';
import type { JobRecord } from '../../core/contracts/jobs.js';
import { discovery } from '../../core/run-progress/testing/sample-run.js';
import { RunStatusEventSchema, type RunStatusEvent } from '../../core/contracts/status-events.js';
import type { NewRun, PipelineRun, RunRepository } from '../../core/ports/run-repository.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';

/** A random full commit SHA. */
export function randomCommitSha(): string {
  return randomBytes(20).toString('hex');
}

/** A repository name no other test uses. */
export function uniqueRepositoryName(): string {
  return `acme/repo-${randomUUID().slice(0, 8)}`;
}

/**
 * The discovery output of the progress rules' sample monorepo (`discovery()` in
 * core/run-progress/testing): group 1 `build` (api, web), group 2 `test` beside `audit`, a
 * phase no project takes part in; a release of `api` when `releaseEnabled`. Validated by the
 * discovery output contract.
 */
export function sampleDiscoveryOutput(options: { releaseEnabled?: boolean } = {}): DiscoveryOutput {
  return DiscoveryOutputSchema.parse(discovery(options));
}

/** Registers a fresh repository and creates a run for a random commit of it. */
/** The record of a run's discovery job, completed by `discovery-1` at fixed times in 2030. */
export function completedDiscoveryRecord(runId: string): JobRecord {
  return {
    job_id: `${runId}/discovery`,
    run_id: runId,
    type: 'discovery',
    status: 'completed',
    worker_id: 'discovery-1',
    created_at: '2030-01-01T00:00:00.000Z',
    updated_at: '2030-01-01T00:00:02.000Z',
    started_at: '2030-01-01T00:00:01.000Z',
    completed_at: '2030-01-01T00:00:02.000Z',
    ttl: 1,
    cancel_requested: false,
  };
}

export async function createSampleRun(
  repository: RunRepository,
  overrides: Partial<NewRun> = {},
): Promise<PipelineRun> {
  const name = overrides.repository ?? uniqueRepositoryName();
  await repository.registerRepository(name, `https://github.com/${name}.git`);
  const { run } = await repository.createRun({
    repository: name,
    commit_sha: randomCommitSha(),
    branch: 'main',
    trigger_type: 'push',
    triggeredBy: 'github-actions',
    ...overrides,
  });
  return run;
}

/**
 * A status event sink that keeps what it is given, in order: the in-memory end of the events'
 * path, for tests that check what a run told GitHub. `failNext` makes the next publishes fail
 * as an unreachable queue would.
 */
export class RecordingStatusEventSink implements StatusEventSink {
  readonly events: RunStatusEvent[] = [];
  #failures = 0;

  failNext(times = 1): void {
    this.#failures += times;
  }

  publish(events: readonly RunStatusEvent[]): Promise<void> {
    if (this.#failures > 0) {
      this.#failures -= 1;
      return Promise.reject(new Error('the status event queue is unreachable'));
    }
    this.events.push(...events.map((event) => RunStatusEventSchema.parse(event)));
    return Promise.resolve();
  }

  /** The events of one run, in sequence order. */
  eventsOf(runId: string): RunStatusEvent[] {
    return this.events
      .filter((event) => event.run_id === runId)
      .sort((left, right) => left.sequence - right.sequence);
  }
}
