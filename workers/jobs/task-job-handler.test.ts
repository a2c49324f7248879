import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobWriter } from '../../adapters/embedded/blob-writer.js';
import { EmbeddedBlobStore } from '../../adapters/embedded/embedded-blob-store.js';
import { EmbeddedSecretStore } from '../../adapters/embedded/embedded-secret-store.js';
import { LocalBlobServer } from '../../adapters/embedded/local-blob-server.js';
import type { Step } from '../../core/contracts/discovery-output.js';
import { taskJobId, type JobMessage } from '../../core/contracts/jobs.js';
import { stepLogKey } from '../../core/job-plane/blob-keys.js';
import { useCommittedRepositories } from '../../test/support/git-repository.js';
import { RoutingStepExecutor } from '../executors/routing-step-executor.js';
import { StepSecretResolver } from '../executors/secret-resolver.js';
import { ShellExecutor } from '../executors/shell-executor.js';
import { RepositoryCache } from '../repository-cache/index.js';
import { WorkerHarness } from '../runtime/testing/worker-harness.js';
import { createTaskJobHandler } from './task-job-handler.js';

const repositoryWith = useCommittedRepositories();

function shellStep(name: string, run: string, priority = 0, extra: Partial<Step> = {}): Step {
  return {
    name,
    action: 'shell',
    run,
    priority,
    args: [],
    secrets: [],
    timeout: 30,
    ...extra,
  } as Step;
}

describe('task jobs', () => {
  let folder: string;
  let harness: WorkerHarness;
  let cache: RepositoryCache;
  let server: LocalBlobServer;
  let logs: EmbeddedBlobStore;
  let writer: BlobWriter;
  let commit: string;
  let cloneUrl: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'forge-task-'));
    const repository = await repositoryWith({ 'app/input.txt': 'hello\n' });
    cloneUrl = repository.path;
    commit = (await repository.commit('second')).trim();
    harness = new WorkerHarness({ visibilityTimeoutSeconds: 30 });
    cache = await RepositoryCache.open({ cacheDir: join(folder, 'cache') });
    server = await LocalBlobServer.start({ root: join(folder, 'blobs') });
    writer = new BlobWriter(join(folder, 'blobs'));
    logs = new EmbeddedBlobStore({
      root: join(folder, 'blobs'),
      bucket: 'forge-logs',
      presigner: server,
      writer,
    });
    const results = new EmbeddedBlobStore({
      root: join(folder, 'blobs'),
      bucket: 'forge-results',
      presigner: server,
      writer,
    });
    const handler = createTaskJobHandler({
      repositories: cache,
      executor: new RoutingStepExecutor({ shell: new ShellExecutor() }),
      secrets: new StepSecretResolver({
        providers: { embedded: new EmbeddedSecretStore({ 'ci/token': 'hunter2-secret' }) },
      }),
      logs,
      results,
    });
    await harness.startWorker({ handler, concurrency: 2 });
  });

  afterEach(async () => {
    await harness.close();
    await cache.close();
    await Promise.all([server.close(), writer.close()]);
    await rm(folder, { recursive: true, force: true });
  });

  async function submitTask(steps: Step[]): Promise<JobMessage> {
    const runId = `run-${Math.random().toString(36).slice(2, 8)}`;
    const message: JobMessage = {
      job_id: taskJobId(runId, 'test', 'app'),
      run_id: runId,
      type: 'task',
      repository: { name: 'acme/app', clone_url: cloneUrl },
      commit_sha: commit,
      deadline: new Date(Date.now() + 600_000).toISOString(),
      payload: { phase: 'test', project: { name: 'app', path: 'app' }, steps },
    };
    await harness.jobs.create({ job_id: message.job_id, run_id: runId, type: 'task' });
    await harness.queue.send(JSON.stringify(message), { deduplicationKey: message.job_id });
    return message;
  }

  async function terminal(jobId: string) {
    await expect
      .poll(async () => (await harness.jobs.get(jobId))?.status, { timeout: 20_000, interval: 100 })
      .toMatch(/completed|failed|cancelled/);
    return (await harness.jobs.get(jobId))!;
  }

  async function logOf(message: JobMessage, step: string): Promise<string> {
    const bytes = await logs.get(stepLogKey(message.run_id, 'test', 'app', step));
    return new TextDecoder().decode(bytes);
  }

  it('runs priority levels in order, the steps of a level side by side, in the project folder', async () => {
    const message = await submitTask([
      shellStep('first', 'cat input.txt > first.txt && echo first done', 10),
      shellStep('left', 'test -f first.txt && echo left', 0),
      shellStep('right', 'test -f first.txt && echo right', 0),
    ]);

    const record = await terminal(message.job_id);

    expect(record.status).toBe('completed');
    expect(
      Object.fromEntries(
        Object.entries(record.steps ?? {}).map(([name, step]) => [
          name,
          [step.status, step.exit_code],
        ]),
      ),
    ).toEqual({
      first: ['success', 0],
      left: ['success', 0],
      right: ['success', 0],
    });
    expect(await logOf(message, 'first')).toBe('first done\n');
    expect(record.result_location).toMatch(/\/phases\/test\/app\/$/);
  });

  it('stops at the first failure: the running sibling is cancelled, later levels skipped', async () => {
    const message = await submitTask([
      shellStep('broken', 'echo about to fail; exit 3', 5),
      shellStep('slow', 'sleep 30', 5),
      shellStep('later', 'echo never', 0),
    ]);
    const started = Date.now();

    const record = await terminal(message.job_id);

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^step broken failed: exit code 3/);
    expect(record.steps?.broken).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(record.steps?.slow?.status).toBe('cancelled');
    expect(record.steps?.later?.status).toBe('skipped');
  });

  it('stops a running sleep 60 within 2 s of a cancel request', async () => {
    const message = await submitTask([shellStep('sleepy', 'sleep 60')]);
    await expect
      .poll(async () => (await harness.jobs.get(message.job_id))?.steps?.sleepy?.status, {
        timeout: 10_000,
      })
      .toBe('running');

    const requested = Date.now();
    await harness.jobs.requestCancel(message.job_id);
    const record = await terminal(message.job_id);

    expect(Date.now() - requested).toBeLessThan(2_000);
    expect(record.status).toBe('cancelled');
    expect(record.steps?.sleepy?.status).toBe('cancelled');
  });

  it('passes secrets to the step and never stores their values in the log', async () => {
    const message = await submitTask([
      shellStep('publish', 'echo "token is $NPM_TOKEN"', 0, {
        secrets: [{ provider: 'embedded', path: 'ci/token', env: 'NPM_TOKEN' }],
      }),
    ]);

    const record = await terminal(message.job_id);

    expect(record.status).toBe('completed');
    const log = await logOf(message, 'publish');
    expect(log).toBe('token is ***\n');
    expect(log).not.toContain('hunter2');
  });

  it('fails a step whose action this worker does not run, naming it', async () => {
    const message = await submitTask([
      {
        name: 'image',
        action: 'earthly',
        target: '+image',
        priority: 0,
        args: [],
        secrets: [],
        timeout: 30,
      },
    ]);

    const record = await terminal(message.job_id);

    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^step image failed: .*earthly/);
  });

  it('fails the task with the reason when a secret is missing', async () => {
    const message = await submitTask([
      shellStep('publish', 'true', 0, { secrets: [{ provider: 'embedded', path: 'ci/missing' }] }),
    ]);

    const record = await terminal(message.job_id);

    expect(record.status).toBe('failed');
    expect(record.error).toContain('ci/missing');
    expect(await logOf(message, 'publish')).toContain('ci/missing');
  });
});
