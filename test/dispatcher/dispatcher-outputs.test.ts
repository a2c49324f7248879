import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../core/contracts/jobs.js';
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import { DispatchResultError } from '../../dispatcher/dispatcher-errors.js';
import {
  jobSummary,
  readDiscoveryResult,
  releaseSummary,
  taskGroups,
  writeDiscoveryOutputs,
} from '../../dispatcher/dispatcher-outputs.js';
import { DISCOVERY_OUTPUT, UNIT_STEP, readJson } from './dispatcher-fixtures.js';
import { useEmbeddedJobPlane } from './job-plane-fixture.js';

const fixture = useEmbeddedJobPlane('forge-outputs-');

function record(fields: Partial<JobRecord> = {}): JobRecord {
  return {
    job_id: 'run-1/discovery',
    run_id: 'run-1',
    type: 'discovery',
    status: 'completed',
    created_at: '2030-01-01T00:00:00.000Z',
    updated_at: '2030-01-01T00:01:00.000Z',
    ttl: 1_900_000_000,
    cancel_requested: false,
    ...fields,
  };
}

describe('readDiscoveryResult', () => {
  it('reads the output at the record’s result_location', async () => {
    const key = discoveryResultKey('run-1');
    await fixture.plane.blobs.results.put(key, JSON.stringify(DISCOVERY_OUTPUT));

    const output = await readDiscoveryResult(
      fixture.plane.blobs.results,
      record({ result_location: fixture.plane.blobs.results.locationOf(key) }),
    );

    expect(output).toEqual(DISCOVERY_OUTPUT);
  });

  it.each([
    ['no result_location', undefined, /completed without a result_location/],
    ['another bucket', 's3://elsewhere/run-1/discovery.json', /not in the results bucket/],
    ['a location that is not s3://', 'run-1/discovery.json', /not in the results bucket/],
    ['nothing at the location', 's3://forge-results/run-1/missing.json', /is missing at/],
  ])('refuses a record with %s', async (_case, location, message) => {
    const completed = record(location === undefined ? {} : { result_location: location });

    const reading = readDiscoveryResult(fixture.plane.blobs.results, completed);

    await expect(reading).rejects.toThrow(DispatchResultError);
    await expect(reading).rejects.toThrow(message);
  });

  it('refuses a result that breaks the discovery output contract', async () => {
    await fixture.plane.blobs.results.put(
      'run-1/discovery.json',
      JSON.stringify({ projects: 'none' }),
    );

    const reading = readDiscoveryResult(
      fixture.plane.blobs.results,
      record({ result_location: 's3://forge-results/run-1/discovery.json' }),
    );

    await expect(reading).rejects.toThrow(/is not a discovery output/);
  });
});

describe('writeDiscoveryOutputs', () => {
  it('writes the output and the extracts asked for, creating folders, leaving no temporary file', async () => {
    const files = {
      output: join(fixture.folder, 'out', 'discovery.json'),
      phaseGroups: join(fixture.folder, 'out', 'phase-groups.json'),
      releaseProjects: join(fixture.folder, 'out', 'release-projects.json'),
      taskGroups: join(fixture.folder, 'out', 'task-groups.json'),
    };

    await writeDiscoveryOutputs(DISCOVERY_OUTPUT, files);

    expect(await readJson(files.output)).toEqual(DISCOVERY_OUTPUT);
    expect(await readJson(files.phaseGroups)).toEqual(DISCOVERY_OUTPUT.phaseGroups);
    expect(await readJson(files.releaseProjects)).toEqual(['api']);
    expect(await readJson(files.taskGroups)).toEqual(taskGroups(DISCOVERY_OUTPUT));
    expect((await readdir(join(fixture.folder, 'out'))).sort()).toEqual([
      'discovery.json',
      'phase-groups.json',
      'release-projects.json',
      'task-groups.json',
    ]);
  });
});

describe('taskGroups', () => {
  it('lists, per phase group, one task per project taking part in each phase', () => {
    const groups = taskGroups(DISCOVERY_OUTPUT);

    expect(groups).toEqual([
      {
        group: 1,
        phases: ['test'],
        tasks: [
          { phase: 'test', project: 'api', projectPath: 'services/api', steps: [UNIT_STEP] },
          { phase: 'test', project: 'web', projectPath: 'services/web', steps: [UNIT_STEP] },
        ],
      },
      {
        group: 2,
        phases: ['build'],
        tasks: [
          {
            phase: 'build',
            project: 'api',
            projectPath: 'services/api',
            steps: [{ ...UNIT_STEP, name: 'image', run: 'make' }],
          },
        ],
      },
    ]);
  });
});

describe('summaries', () => {
  it('summarise a job with null for what it does not have', () => {
    const failed = record({
      job_id: 'run-1/task/test/api',
      type: 'task',
      status: 'failed',
      error: 'step unit exited with 1',
      steps: { unit: { status: 'failed', exit_code: 1 } },
    });

    expect(jobSummary(failed)).toEqual({
      job_id: 'run-1/task/test/api',
      status: 'failed',
      result_location: null,
      steps: { unit: { status: 'failed', exit_code: 1 } },
      error: 'step unit exited with 1',
    });
  });

  it('give a release the worst status of its jobs', () => {
    const completed = record({ job_id: 'run-1/release/api', type: 'release' });
    const failed = record({ job_id: 'run-1/release/web', type: 'release', status: 'failed' });
    const cancelled = record({ job_id: 'run-1/release/db', type: 'release', status: 'cancelled' });

    expect(releaseSummary([completed]).status).toBe('completed');
    expect(releaseSummary([completed, cancelled]).status).toBe('cancelled');
    expect(releaseSummary([cancelled, failed, completed]).status).toBe('failed');
    expect(releaseSummary([completed, failed]).jobs.map((job) => job.job_id)).toEqual([
      'run-1/release/api',
      'run-1/release/web',
    ]);
  });
});
