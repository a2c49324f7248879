import { describe, expect, it } from 'vitest';
import { DiscoveryOutputSchema } from '../../core/contracts/discovery-output.js';
import { discoveryJobId, taskJobId } from '../../core/contracts/jobs.js';
import { discoveryResultKey, stepLogKey } from '../../core/job-plane/blob-keys.js';
import { useCommittedRepositories } from '../support/git-repository.js';
import { projectCue, repoCue } from '../support/forge-repository.js';
import { uniqueResourceName } from '../support/local-aws.js';
import { baseMessage, useWorkerProcesses } from './worker-process-fixtures.js';

// Workers run as separate `forge-worker` processes against the emulators, as on a cluster.
const repositoryWith = useCommittedRepositories();
const workers = useWorkerProcesses();

describe('worker pool processes on the emulators', { timeout: 90_000 }, () => {
  it('run a discovery job and a task job, with results, logs and step records', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue({ phases: { test: { group: 1 } } }),
      'app/.forge/project.cue': projectCue(
        'app',
        'ci: phases: test: unit: {action: "shell", run: "echo testing app"}',
      ),
    });
    const commit = await repository.commit('more');
    const runId = uniqueResourceName('run');
    workers.start('discovery', 'discovery-1');
    workers.start('task', 'task-1');

    await workers.submit({
      ...baseMessage(runId, repository.path, commit),
      job_id: discoveryJobId(runId),
      type: 'discovery',
      payload: {},
    });
    const discovery = await workers.terminal(discoveryJobId(runId));
    const output = DiscoveryOutputSchema.parse(
      JSON.parse(
        new TextDecoder().decode(await workers.plane.blobs.results.get(discoveryResultKey(runId))),
      ),
    );
    const steps = output.projects[0]?.phases.test ?? [];
    await workers.submit({
      ...baseMessage(runId, repository.path, commit),
      job_id: taskJobId(runId, 'test', 'app'),
      type: 'task',
      payload: { phase: 'test', project: { name: 'app', path: 'app' }, steps },
    });
    const task = await workers.terminal(taskJobId(runId, 'test', 'app'));
    const log = new TextDecoder().decode(
      await workers.plane.blobs.logs.get(stepLogKey(runId, 'test', 'app', 'unit')),
    );

    expect(discovery).toMatchObject({ status: 'completed', worker_id: 'discovery-1' });
    expect(output.projects.map((project) => project.name)).toEqual(['app']);
    expect(task).toMatchObject({ status: 'completed', worker_id: 'task-1' });
    expect(task.steps?.unit).toMatchObject({ status: 'success', exit_code: 0 });
    expect(log).toBe('testing app\n');
    expect(await workers.stopAll()).toEqual([0, 0]);
  });

  it('lets another worker take over a job whose worker was killed mid-step, recording it once', async () => {
    const repository = await repositoryWith({ 'app/README.md': 'app\n' });
    const commit = await repository.commit('more');
    const runId = uniqueResourceName('run');
    const jobId = taskJobId(runId, 'test', 'app');
    const doomed = workers.start('task', 'doomed');
    await workers.submit({
      ...baseMessage(runId, repository.path, commit),
      job_id: jobId,
      type: 'task',
      payload: {
        phase: 'test',
        project: { name: 'app', path: 'app' },
        steps: [
          {
            name: 'slow',
            action: 'shell',
            run: 'sleep 2; echo finished',
            priority: 0,
            args: [],
            secrets: [],
            timeout: 60,
          },
        ],
      },
    });
    await expect
      .poll(async () => (await workers.plane.jobs.get(jobId))?.steps?.slow?.status, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe('running');

    doomed.kill('SIGKILL');
    workers.start('task', 'survivor');
    const record = await workers.terminal(jobId);
    const log = new TextDecoder().decode(
      await workers.plane.blobs.logs.get(stepLogKey(runId, 'test', 'app', 'slow')),
    );

    expect(record).toMatchObject({ status: 'completed', worker_id: 'survivor' });
    expect(record.steps?.slow).toMatchObject({ status: 'success', exit_code: 0 });
    expect(log).toBe('finished\n');
  });

  it('dead-letters a message no worker can run after 3 receives', async () => {
    workers.start('task', 'task-poison');
    const poison = `not a job ${uniqueResourceName('poison')}`;

    await workers.plane.queues.tasks.send(poison, {
      deduplicationKey: uniqueResourceName('poison'),
    });
    const deadLetters = workers.plane.deadLetters.tasks;
    if (!deadLetters) throw new Error('the provisioned plane has no dead-letter queue');
    let moved: string | undefined;
    await expect
      .poll(
        async () => {
          const [message] = await deadLetters.receive({ waitTimeSeconds: 1 });
          if (message) {
            moved = message.body;
            await deadLetters.delete(message.receiptHandle);
          }
          return moved;
        },
        { timeout: 40_000, interval: 500 },
      )
      .toBe(poison);

    expect(moved).toBe(poison);
  });
});
