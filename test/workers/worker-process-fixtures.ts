/**
 * Test support for running the worker pools as separate `forge-worker` processes against the
 * local AWS emulators, as on a cluster: a job plane of the test file's own (queues, table,
 * buckets), workers started with short timings and each stopped (by its PID, SIGTERM) after
 * its test, and job submission the way a dispatcher does it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { sdkEnvironment } from '../../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../../adapters/aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import type { JobMessage, JobRecord } from '../../core/contracts/jobs.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { localAws, uniqueResourceName } from '../support/local-aws.js';
import { spawnCommand } from '../support/run-command.js';

/** The visibility timeout of the test queues and workers: short, so takeovers happen quickly. */
export const VISIBILITY_SECONDS = 3;

/** What a test file gets from {@link useWorkerProcesses}; valid once `beforeAll` ran. */
export interface WorkerProcesses {
  /** The provisioned job plane, for submitting jobs and reading records, logs and results. */
  readonly plane: JobPlane;
  /** A scratch folder of the test file (worker caches live under it). */
  readonly folder: string;
  /** Starts a worker process of `pool` named `name`; it is stopped after the test. */
  start(pool: 'discovery' | 'task', name: string): ChildProcess;
  /** Stops a worker (SIGTERM) and resolves with its exit code. */
  stop(worker: ChildProcess): Promise<number | null>;
  /** Stops every worker still running; resolves with their exit codes. */
  stopAll(): Promise<(number | null)[]>;
  /** Submits a job as a dispatcher does: the record first, then the message. */
  submit(message: JobMessage): Promise<void>;
  /** Waits for the job to end (polling every `intervalMs`) and returns its record. */
  terminal(jobId: string, options?: { timeout?: number; intervalMs?: number }): Promise<JobRecord>;
}

/** Registers the hooks of a test file whose tests run worker processes on the emulators. */
export function useWorkerProcesses(): WorkerProcesses {
  let environment: Record<string, string> = {};
  const workers: ChildProcess[] = [];
  const state = { plane: undefined as JobPlane | undefined, folder: '' };

  beforeAll(async () => {
    const endpoints = localAws();
    const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName('workers'), {
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    });
    state.folder = await mkdtemp(join(tmpdir(), 'forge-workers-'));
    environment = { ...sdkEnvironment(endpoints), ...provisioned.environment };
    Object.assign(process.env, sdkEnvironment(endpoints));
    state.plane = await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
  });

  afterEach(async () => {
    await fixture.stopAll();
  });

  afterAll(async () => {
    await state.plane?.close();
    if (state.folder !== '') await rm(state.folder, { recursive: true, force: true });
  });

  const fixture: WorkerProcesses = {
    get plane(): JobPlane {
      if (state.plane === undefined) throw new Error('the job plane is made in beforeAll');
      return state.plane;
    },
    get folder(): string {
      return state.folder;
    },
    start(pool, name) {
      const worker = spawnCommand('forge-worker', [pool], {
        env: {
          ...process.env,
          ...environment,
          FORGE_WORKER_ID: name,
          FORGE_HEALTH_PORT: '0',
          FORGE_REPOSITORY_CACHE_DIR: join(state.folder, name),
          // A worker killed mid-step leaves its local copy of the step's log behind: in this
          // folder, which goes with the tests, not in the machine's.
          TMPDIR: state.folder,
          FORGE_SHUTDOWN_GRACE: '2',
          FORGE_WORKER_RECEIVE_WAIT: '1',
          FORGE_WORKER_VISIBILITY_TIMEOUT: String(VISIBILITY_SECONDS),
        },
      });
      worker.stdout.resume();
      worker.stderr.resume();
      workers.push(worker);
      return worker;
    },
    async stop(worker) {
      if (worker.exitCode !== null || worker.signalCode !== null) return worker.exitCode;
      const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      return exited;
    },
    stopAll() {
      return Promise.all(workers.splice(0).map((worker) => fixture.stop(worker)));
    },
    async submit(message) {
      const { plane } = fixture;
      await plane.jobs.create({
        job_id: message.job_id,
        run_id: message.run_id,
        type: message.type,
      });
      await plane.queues[message.type === 'discovery' ? 'discovery' : 'tasks'].send(
        JSON.stringify(message),
        { deduplicationKey: message.job_id },
      );
    },
    async terminal(jobId, { timeout = 40_000, intervalMs = 250 } = {}) {
      const { plane } = fixture;
      await expect
        .poll(async () => (await plane.jobs.get(jobId))?.status, { timeout, interval: intervalMs })
        .toMatch(/completed|failed|cancelled/);
      return (await plane.jobs.get(jobId)) as JobRecord;
    },
  };
  return fixture;
}

/** The fields every test job message shares, for a run of `repository` at `commit`. */
export function baseMessage(runId: string, cloneUrl: string, commit: string) {
  return {
    run_id: runId,
    repository: { name: 'acme/mono', clone_url: cloneUrl },
    commit_sha: commit,
    branch: 'main',
    deadline: new Date(Date.now() + 600_000).toISOString(),
  };
}
