/**
 * What the discovery dispatcher writes for Argo's loops: small group items, each group's tasks
 * by name, and whether to release; and what a task dispatcher reads back from discovery.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import { loadDiscoveredTask } from '../../dispatcher/discovered-task.js';
import { DispatchInputError } from '../../dispatcher/dispatcher-errors.js';
import {
  groupItems,
  groupTasks,
  taskGroups,
  writeDiscoveryOutputs,
} from '../../dispatcher/dispatcher-outputs.js';
import { DISCOVERY_OUTPUT, UNIT_STEP, readJson } from '../dispatcher/dispatcher-fixtures.js';
import { useEmbeddedJobPlane } from '../dispatcher/job-plane-fixture.js';

const fixture = useEmbeddedJobPlane('forge-loop-outputs-');

describe('the discovery outputs for Argo’s loops', () => {
  it('writes one small item per group, each group’s tasks by name, and whether to release', async () => {
    const files = {
      output: join(fixture.folder, 'out', 'discovery.json'),
      groupItems: join(fixture.folder, 'out', 'group-items.json'),
      groupTasks: join(fixture.folder, 'out', 'group-tasks.json'),
      releaseEnabled: join(fixture.folder, 'out', 'release-enabled.json'),
    };

    await writeDiscoveryOutputs(DISCOVERY_OUTPUT, files);

    expect(await readJson(files.groupItems)).toEqual([
      { index: 0, group: 1, phases: ['test'] },
      { index: 1, group: 2, phases: ['build'] },
    ]);
    expect(await readJson(files.groupTasks)).toEqual([
      [
        { phase: 'test', project: 'api' },
        { phase: 'test', project: 'web' },
      ],
      [{ phase: 'build', project: 'api' }],
    ]);
    expect(await readFile(files.releaseEnabled, 'utf8')).toBe('true');
  });

  it('lines the group tasks up with the task groups, index by index', () => {
    const items = groupItems(DISCOVERY_OUTPUT);
    const tasks = groupTasks(DISCOVERY_OUTPUT);
    const full = taskGroups(DISCOVERY_OUTPUT);

    expect(items.map((item) => full[item.index]?.group)).toEqual(items.map((item) => item.group));
    expect(tasks).toEqual(
      full.map((group) => group.tasks.map(({ phase, project }) => ({ phase, project }))),
    );
  });
});

describe('loadDiscoveredTask', () => {
  async function recordDiscovery(runId: string, status: 'completed' | 'failed'): Promise<void> {
    const jobId = `${runId}/discovery`;
    const key = discoveryResultKey(runId);
    await fixture.plane.jobs.create({ job_id: jobId, run_id: runId, type: 'discovery' });
    await fixture.plane.jobs.transition(jobId, 'running', { worker_id: 'test' });
    await fixture.plane.blobs.results.put(key, JSON.stringify(DISCOVERY_OUTPUT));
    await fixture.plane.jobs.transition(
      jobId,
      status,
      status === 'completed'
        ? { result_location: fixture.plane.blobs.results.locationOf(key) }
        : {},
    );
  }

  it('finds the project’s folder and its steps for the phase in the run’s discovery output', async () => {
    await recordDiscovery('run-1', 'completed');

    const task = await loadDiscoveredTask(fixture.plane, 'run-1', 'build', 'api');

    expect(task).toEqual({
      phase: 'build',
      project: 'api',
      projectPath: 'services/api',
      steps: [{ ...UNIT_STEP, name: 'image', run: 'make' }],
    });
  });

  it.each([
    [
      'a run whose discovery failed',
      'failed',
      'api',
      'test',
      /no completed discovery \(job run-1\/discovery is failed\)/,
    ],
    [
      'a project the discovery did not find',
      'completed',
      'cli',
      'test',
      /no task for project cli in phase test/,
    ],
    [
      'a phase the project has no steps in',
      'completed',
      'web',
      'build',
      /no task for project web in phase build/,
    ],
  ] as const)('refuses %s, for good', async (_case, status, project, phase, message) => {
    await recordDiscovery('run-1', status);

    const loading = loadDiscoveredTask(fixture.plane, 'run-1', phase, project);

    await expect(loading).rejects.toThrow(DispatchInputError);
    await expect(loading).rejects.toThrow(message);
  });

  it('refuses a run without a discovery job', async () => {
    const loading = loadDiscoveredTask(fixture.plane, 'run-2', 'test', 'api');

    await expect(loading).rejects.toThrow(/job run-2\/discovery is missing/);
  });
});
