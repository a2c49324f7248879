import { randomBytes, randomUUID } from 'node:crypto';
import {
  DiscoveryOutputSchema,
  type DiscoveryOutput,
} from '../../core/contracts/discovery-output.js';
import type { JobRecord } from '../../core/contracts/jobs.js';
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

function shellStep(name: string, run: string, priority = 0) {
  return { name, action: 'shell' as const, run, priority, args: [], secrets: [], timeout: null };
}

/**
 * The discovery output of a small monorepo: group 1 `build` (api: compile then vet; web:
 * bundle), group 2 `test` (api: unit; web: e2e) beside `audit`, a phase no project takes part
 * in; a release of `api` when `releaseEnabled`. Validated by the discovery output contract.
 */
export function sampleDiscoveryOutput(options: { releaseEnabled?: boolean } = {}): DiscoveryOutput {
  const releaseEnabled = options.releaseEnabled ?? false;
  return DiscoveryOutputSchema.parse({
    repository: {
      forgeVersion: '1.0.0',
      tagging: { strategy: 'monorepo' },
      phases: {
        build: { group: 1, description: 'Build', timeout: null, required: true },
        test: { group: 2, description: 'Test', timeout: 600, required: false },
        audit: { group: 2, description: 'Audit', timeout: null, required: false },
      },
      publishers: {},
    },
    projects: [
      {
        name: 'api',
        path: 'services/api',
        phases: {
          build: [
            {
              name: 'compile',
              action: 'earthly',
              target: '+build',
              priority: 10,
              args: [],
              secrets: [],
              timeout: null,
            },
            shellStep('vet', 'go vet ./...'),
          ],
          test: [shellStep('unit', 'go test ./...')],
        },
        releaseTriggered: releaseEnabled,
        deploymentTriggered: false,
      },
      {
        name: 'web',
        path: 'web',
        phases: {
          build: [shellStep('bundle', 'npm run build')],
          test: [shellStep('e2e', 'npm test')],
        },
        releaseTriggered: false,
        deploymentTriggered: false,
      },
    ],
    phaseGroups: [
      { group: 1, phases: ['build'] },
      { group: 2, phases: ['audit', 'test'] },
    ],
    releaseEnabled,
    releaseProjects: releaseEnabled ? ['api'] : [],
    errors: [],
  });
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
