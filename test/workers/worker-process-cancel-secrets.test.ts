import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import type { Step } from '../../core/contracts/discovery-output.js';
import { taskJobId } from '../../core/contracts/jobs.js';
import { stepLogKey } from '../../core/job-plane/blob-keys.js';
import { useCommittedRepositories } from '../support/git-repository.js';
import { localAwsClientConfig, uniqueResourceName } from '../support/local-aws.js';
import { baseMessage, useWorkerProcesses } from './worker-process-fixtures.js';

// Cancellation and secrets through a `forge-worker` process on the emulators: the same
// guarantees the embedded plane's task job tests prove (workers/jobs/task-job-handler.test.ts).
const repositoryWith = useCommittedRepositories();
const workers = useWorkerProcesses();
const secrets = new SecretsManagerClient(sdkClientConfig(localAwsClientConfig('secretsManager')));

afterAll(() => {
  secrets.destroy();
});

function shellStep(name: string, run: string, extra: Partial<Step> = {}): Step {
  const step = { name, action: 'shell', run, priority: 0, args: [], secrets: [], timeout: 120 };
  return { ...step, ...extra } as Step;
}

/** Submits a task job of project `app` running `steps`; returns its run and job ids. */
async function submitTask(cloneUrl: string, commit: string, steps: Step[]) {
  const runId = uniqueResourceName('run');
  const jobId = taskJobId(runId, 'test', 'app');
  await workers.submit({
    ...baseMessage(runId, cloneUrl, commit),
    job_id: jobId,
    type: 'task',
    payload: { phase: 'test', project: { name: 'app', path: 'app' }, steps },
  });
  return { runId, jobId };
}

/**
 * The processes of group `pgid` still running, from `/proc` (zombies left, as orphans here
 * are reaped late, do not count: they run nothing).
 */
async function liveMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const live: number[] = [];
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Format: pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z' && fields[0] !== 'X') live.push(+pid);
  }
  return live;
}

describe('worker pool processes on the emulators: cancel and secrets', { timeout: 90_000 }, () => {
  it('stops a running sleep 60 within 2 s of a cancel request, process group and all', async () => {
    const repository = await repositoryWith({ 'app/README.md': 'app\n' });
    const commit = await repository.commit('more');
    const pidFile = join(workers.folder, `${uniqueResourceName('sleepy')}.pid`);
    workers.start('task', 'task-cancel');
    const { jobId } = await submitTask(repository.path, commit, [
      // The shell leads the step's process group; the background sleep is one more member.
      shellStep('sleepy', `sleep 60 & echo $$ > ${pidFile}; wait`),
    ]);
    await expect
      .poll(async () => (await workers.plane.jobs.get(jobId))?.steps?.sleepy?.status, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe('running');
    await expect
      .poll(() => readFile(pidFile, 'utf8').catch(() => ''), { timeout: 5000 })
      .not.toBe('');
    const pgid = Number((await readFile(pidFile, 'utf8')).trim());
    const membersBefore = await liveMembers(pgid);

    const requestedAt = performance.now();
    await workers.plane.jobs.requestCancel(jobId);
    const record = await workers.terminal(jobId, { timeout: 10_000, intervalMs: 25 });
    const endedAfterMs = performance.now() - requestedAt;

    expect(membersBefore.length).toBeGreaterThanOrEqual(2);
    expect(endedAfterMs).toBeLessThan(2000);
    expect(record).toMatchObject({ status: 'cancelled', worker_id: 'task-cancel' });
    await expect
      .poll(async () => (await workers.plane.jobs.get(jobId))?.steps?.sleepy?.status, {
        timeout: 2000,
        interval: 25,
      })
      .toBe('cancelled');
    expect(await liveMembers(pgid)).toEqual([]);
  });

  it('gives a step its Secrets Manager secret and stores the log with the value masked', async () => {
    const repository = await repositoryWith({ 'app/README.md': 'app\n' });
    const commit = await repository.commit('more');
    const secretPath = `ci/${uniqueResourceName('npm-token')}`;
    const secretValue = `s3cr3t-${uniqueResourceName('value')}`;
    await secrets.send(new CreateSecretCommand({ Name: secretPath, SecretString: secretValue }));
    workers.start('task', 'task-secrets');

    const { runId, jobId } = await submitTask(repository.path, commit, [
      shellStep('publish', 'echo "token is $NPM_TOKEN"; printf "again: %s\\n" "$NPM_TOKEN"', {
        secrets: [{ provider: 'aws', path: secretPath, env: 'NPM_TOKEN' }],
      }),
    ]);
    const record = await workers.terminal(jobId);
    const log = new TextDecoder().decode(
      await workers.plane.blobs.logs.get(stepLogKey(runId, 'test', 'app', 'publish')),
    );

    expect(record.status).toBe('completed');
    expect(record.steps?.publish).toMatchObject({ status: 'success', exit_code: 0 });
    expect(log).toBe('token is ***\nagain: ***\n');
    expect(log).not.toContain(secretValue);
  });
});
