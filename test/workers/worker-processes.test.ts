import type { ChildProcess } from 'node:child_process';
import { spawnCommand } from '../support/run-command.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { sdkEnvironment } from '../../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../../adapters/aws/emulators/provision-local-job-plane.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import { DiscoveryOutputSchema } from '../../core/contracts/discovery-output.js';
import {
  discoveryJobId,
  taskJobId,
  type JobMessage,
  type JobRecord,
} from '../../core/contracts/jobs.js';
import { discoveryResultKey, stepLogKey } from '../../core/job-plane/blob-keys.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { useCommittedRepositories } from '../support/git-repository.js';
import { projectCue, repoCue } from '../support/forge-repository.js';
import { localAws, uniqueResourceName } from '../support/local-aws.js';

// Workers run as separate `forge-worker` processes against the emulators, as on a cluster.
const repositoryWith = useCommittedRepositories();
const VISIBILITY_SECONDS = 3;

let environment: Record<string, string>;
let plane: JobPlane;
let folder: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  const endpoints = localAws();
  const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName('workers'), {
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
  });
  folder = await mkdtemp(join(tmpdir(), 'forge-workers-'));
  environment = { ...sdkEnvironment(endpoints), ...provisioned.environment };
  Object.assign(process.env, sdkEnvironment(endpoints));
  plane = await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => stopWorker(worker)));
});

afterAll(async () => {
  await plane.close();
  await rm(folder, { recursive: true, force: true });
});

function startWorker(pool: 'discovery' | 'task', name: string): ChildProcess {
  const worker = spawnCommand('forge-worker', [pool], {
    env: {
      ...process.env,
      ...environment,
      FORGE_WORKER_ID: name,
      FORGE_HEALTH_PORT: '0',
      FORGE_REPOSITORY_CACHE_DIR: join(folder, name),
      FORGE_SHUTDOWN_GRACE: '2',
      FORGE_WORKER_RECEIVE_WAIT: '1',
      FORGE_WORKER_VISIBILITY_TIMEOUT: String(VISIBILITY_SECONDS),
    },
  });
  worker.stdout.resume();
  worker.stderr.resume();
  workers.push(worker);
  return worker;
}

async function stopWorker(worker: ChildProcess): Promise<number | null> {
  if (worker.exitCode !== null || worker.signalCode !== null) return worker.exitCode;
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  return exited;
}

async function submit(message: JobMessage): Promise<void> {
  await plane.jobs.create({ job_id: message.job_id, run_id: message.run_id, type: message.type });
  await plane.queues[message.type === 'discovery' ? 'discovery' : 'tasks'].send(
    JSON.stringify(message),
    {
      deduplicationKey: message.job_id,
    },
  );
}

async function terminal(jobId: string, timeout = 40_000): Promise<JobRecord> {
  await expect
    .poll(async () => (await plane.jobs.get(jobId))?.status, { timeout, interval: 250 })
    .toMatch(/completed|failed|cancelled/);
  return (await plane.jobs.get(jobId)) as JobRecord;
}

function baseMessage(runId: string, cloneUrl: string, commit: string) {
  return {
    run_id: runId,
    repository: { name: 'acme/mono', clone_url: cloneUrl },
    commit_sha: commit,
    branch: 'main',
    deadline: new Date(Date.now() + 600_000).toISOString(),
  };
}

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
    startWorker('discovery', 'discovery-1');
    startWorker('task', 'task-1');

    await submit({
      ...baseMessage(runId, repository.path, commit),
      job_id: discoveryJobId(runId),
      type: 'discovery',
      payload: {},
    });
    const discovery = await terminal(discoveryJobId(runId));
    const output = DiscoveryOutputSchema.parse(
      JSON.parse(
        new TextDecoder().decode(await plane.blobs.results.get(discoveryResultKey(runId))),
      ),
    );
    const steps = output.projects[0]?.phases.test ?? [];
    await submit({
      ...baseMessage(runId, repository.path, commit),
      job_id: taskJobId(runId, 'test', 'app'),
      type: 'task',
      payload: { phase: 'test', project: { name: 'app', path: 'app' }, steps },
    });
    const task = await terminal(taskJobId(runId, 'test', 'app'));
    const log = new TextDecoder().decode(
      await plane.blobs.logs.get(stepLogKey(runId, 'test', 'app', 'unit')),
    );

    expect(discovery).toMatchObject({ status: 'completed', worker_id: 'discovery-1' });
    expect(output.projects.map((project) => project.name)).toEqual(['app']);
    expect(task).toMatchObject({ status: 'completed', worker_id: 'task-1' });
    expect(task.steps?.unit).toMatchObject({ status: 'success', exit_code: 0 });
    expect(log).toBe('testing app\n');
    expect(await Promise.all(workers.splice(0).map((worker) => stopWorker(worker)))).toEqual([
      0, 0,
    ]);
  });

  it('lets another worker finish a job whose worker was killed mid-step, recording it once', async () => {
    const repository = await repositoryWith({ 'app/README.md': 'app\n' });
    const commit = await repository.commit('more');
    const runId = uniqueResourceName('run');
    const jobId = taskJobId(runId, 'test', 'app');
    const doomed = startWorker('task', 'doomed');
    await submit({
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
      .poll(async () => (await plane.jobs.get(jobId))?.steps?.slow?.status, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe('running');

    doomed.kill('SIGKILL');
    startWorker('task', 'survivor');
    const record = await terminal(jobId);
    const log = new TextDecoder().decode(
      await plane.blobs.logs.get(stepLogKey(runId, 'test', 'app', 'slow')),
    );

    expect(record.status).toBe('completed');
    expect(record.steps?.slow).toMatchObject({ status: 'success', exit_code: 0 });
    expect(log).toBe('finished\n');
  });

  it('dead-letters a message no worker can run after 3 receives', async () => {
    startWorker('task', 'task-poison');
    const poison = `not a job ${uniqueResourceName('poison')}`;

    await plane.queues.tasks.send(poison, { deduplicationKey: uniqueResourceName('poison') });
    const deadLetters = plane.deadLetters.tasks;
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
