import type { DiscoveryOutput } from '../../contracts/discovery-output.js';
import { taskJobId, type JobRecord } from '../../contracts/jobs.js';
import { applyJobRecord } from '../apply-job-record.js';
import {
  deriveRunProgress,
  progressPointFacts,
  statusPointsBetween,
} from '../derive-run-progress.js';
import { RunProgressDraft } from '../run-progress-draft.js';
import type { RunSnapshot } from '../run-snapshot.js';

/*
 * A sample run for the progress rules' unit tests: its discovery output, its job records at
 * chosen minutes, and a way to reconcile records one transaction at a time.
 */

/** The sample run's id. */
export const RUN_ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';

/** Two groups: `build` (api, web), then `test` (api, web) beside `audit`, which no project has. */
export function discovery(options: { releaseEnabled?: boolean } = {}): DiscoveryOutput {
  const shell = (name: string, run: string, priority = 0) => ({
    name,
    action: 'shell' as const,
    run,
    priority,
    args: [],
    secrets: [],
    timeout: null,
  });
  return {
    repository: {
      forgeVersion: '1.0.0',
      tagging: { strategy: 'monorepo' },
      phases: {
        build: { group: 1, description: 'build', timeout: null, required: false },
        test: { group: 2, description: 'test', timeout: null, required: false },
        audit: { group: 2, description: 'audit', timeout: null, required: false },
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
            shell('vet', 'go vet ./...'),
          ],
          test: [shell('unit', 'go test ./...')],
        },
        releaseTriggered: true,
        deploymentTriggered: false,
      },
      {
        name: 'web',
        path: 'web',
        phases: { build: [shell('bundle', 'npm run build')], test: [shell('e2e', 'npm test')] },
        releaseTriggered: false,
        deploymentTriggered: false,
      },
    ],
    phaseGroups: [
      { group: 1, phases: ['build'] },
      { group: 2, phases: ['audit', 'test'] },
    ],
    releaseEnabled: options.releaseEnabled ?? false,
    releaseProjects: options.releaseEnabled === true ? ['api'] : [],
    errors: [],
  };
}

/** The sample run as created: pending, not discovered. */
export function newRun(): RunSnapshot {
  return {
    run: {
      id: RUN_ID,
      repository: 'acme/monorepo',
      commitSha: 'a'.repeat(40),
      status: 'pending',
      startedAt: '2030-01-01T00:00:00.000Z',
      completedAt: null,
      discoveredAt: null,
      materialised: false,
      githubContext: { context: 'ci/catalyst-forge' },
      error: null,
    },
    phases: [],
    tasks: [],
    steps: [],
    releases: [],
  };
}

/** Minute `minute` of the test day. */
export function at(minute: number): string {
  return new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
}

/** A job record of the sample run, pending unless `fields` say otherwise. */
export function job(jobId: string, fields: Partial<JobRecord>): JobRecord {
  const type = jobId.split('/')[1] as JobRecord['type'];
  return {
    job_id: jobId,
    run_id: RUN_ID,
    type,
    status: 'pending',
    created_at: at(0),
    updated_at: at(0),
    ttl: 1,
    cancel_requested: false,
    ...fields,
  };
}

/** The ids of the sample run's discovery and task jobs. */
export const discoveryJob = `${RUN_ID}/discovery`;
export const buildApi = taskJobId(RUN_ID, 'build', 'api');
export const buildWeb = taskJobId(RUN_ID, 'build', 'web');
export const testApi = taskJobId(RUN_ID, 'test', 'api');
export const testWeb = taskJobId(RUN_ID, 'test', 'web');

/** A completed task job whose steps all succeeded, started at `start`, ended at `end`. */
export function completedTask(
  jobId: string,
  steps: string[],
  start: number,
  end: number,
): JobRecord {
  const progress = Object.fromEntries(
    steps.map((name) => [
      name,
      { status: 'success' as const, exit_code: 0, started_at: at(start), completed_at: at(end) },
    ]),
  );
  return job(jobId, {
    status: 'completed',
    worker_id: 'w1',
    started_at: at(start),
    completed_at: at(end),
    steps: progress,
  });
}

/** The discovery job's record once it completed (minute 2). */
export const discovered = job(discoveryJob, {
  status: 'completed',
  worker_id: 'd1',
  started_at: at(1),
  completed_at: at(2),
  result_location: `s3://results/${RUN_ID}/discovery.json`,
});

/** Applies each record in its own draft, as separate transactions do, and returns the end. */
export function reconcile(
  records: readonly JobRecord[],
  output: DiscoveryOutput = discovery(),
  start: RunSnapshot = newRun(),
): { snapshot: RunSnapshot; points: string[] } {
  let snapshot = start;
  const points: string[] = [];
  for (const record of records) {
    const draft = new RunProgressDraft(snapshot, { now: new Date(at(59)) });
    const before = progressPointFacts(draft);
    applyJobRecord(draft, record, output);
    deriveRunProgress(draft);
    points.push(...statusPointsBetween(before, progressPointFacts(draft)));
    snapshot = snapshotOf(draft);
  }
  return { snapshot, points };
}

/** The draft's rows as a snapshot, as the next transaction would load them. */
export function snapshotOf(draft: RunProgressDraft): RunSnapshot {
  return {
    run: { ...draft.run },
    phases: draft.phases().map((row) => ({ ...row })),
    tasks: draft.tasks().map((row) => ({ ...row })),
    steps: draft.tasks().flatMap((task) => draft.stepsOf(task.jobId).map((row) => ({ ...row }))),
    releases: draft.releases().map((row) => ({ ...row })),
  };
}

/** Every status of a snapshot, by entity, for compact assertions. */
export function statuses(snapshot: RunSnapshot) {
  return {
    run: snapshot.run.status,
    phases: Object.fromEntries(snapshot.phases.map((row) => [row.name, row.status])),
    tasks: Object.fromEntries(snapshot.tasks.map((row) => [row.jobId.slice(37), row.status])),
    steps: Object.fromEntries(
      snapshot.steps.map((row) => [`${row.jobId.slice(37)}/${row.name}`, row.status]),
    ),
    releases: Object.fromEntries(snapshot.releases.map((row) => [row.project, row.status])),
  };
}
