/**
 * `forge-dispatcher` as the rendered workflow runs it: child processes with the arguments Argo
 * would give each pod, on the job plane of the local emulators. Jobs are ended by FAKE workers
 * (`test/dispatcher/fake-worker.ts`) or by hand, not by the product's worker runtime.
 */
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdkEnvironment } from '../../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../../adapters/aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import type { JobMessage } from '../../core/contracts/jobs.js';
import type { QueueName } from '../../core/job-plane/queue-settings.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import type { WorkflowManifest } from '../../core/workflow/workflow-manifest.js';
import { COMMIT, DISCOVERY_OUTPUT, UNIT_STEP } from '../dispatcher/dispatcher-fixtures.js';
import { startDispatcher } from '../dispatcher/dispatcher-process.js';
import { startFakeWorker, type FakeOutcome, type FakeWorker } from '../dispatcher/fake-worker.js';
import { localAws, uniqueResourceName } from '../support/local-aws.js';
import { runCommand } from '../support/run-command.js';
import { simulateWorkflow, type SimulatedPod } from './argo-run-simulation.js';
import { WORKFLOW_SETTINGS } from './workflow-fixtures.js';

const CLI_TEST_TIMEOUT_MS = 90_000;

let folder: string;
let plane: JobPlane;
let env: Record<string, string>;
let workers: FakeWorker[];
let runId: string;

beforeEach(async () => {
  const endpoints = localAws();
  // The fake workers' SDK clients read these, as the dispatcher's do in its own process.
  Object.assign(process.env, sdkEnvironment(endpoints));
  const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName('argo'));
  env = { ...provisioned.environment, ...sdkEnvironment(endpoints) };
  plane = await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
  folder = await mkdtemp(join(tmpdir(), 'forge-dispatcher-argo-'));
  workers = [];
  runId = uniqueResourceName('run');
});

afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await plane.close();
  await rm(folder, { recursive: true, force: true });
});

function fakeWorker(queue: QueueName, decide: (message: JobMessage) => FakeOutcome): FakeWorker {
  const worker = startFakeWorker(plane, queue, decide);
  workers.push(worker);
  return worker;
}

function manifest(): WorkflowManifest {
  return renderWorkflow(
    {
      runId,
      repository: 'acme/monorepo',
      cloneUrl: 'https://github.com/acme/monorepo.git',
      commit: COMMIT,
      branch: 'main',
    },
    WORKFLOW_SETTINGS,
  );
}

/** A pod's arguments with the pod's `/tmp/forge` files moved into the test's folder. */
function localArgs(pod: SimulatedPod | undefined): string[] {
  if (pod === undefined) throw new Error('no such pod');
  return pod.args.map((arg) => arg.replace(/^\/tmp\/forge\//, `${folder}/`));
}

describe(
  'forge-dispatcher with the arguments of a rendered workflow',
  { timeout: CLI_TEST_TIMEOUT_MS },
  () => {
    it('runs discovery, a task from the discovery output, a release and the exit handler', async () => {
      const rendered = manifest();
      fakeWorker('discovery', () => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
      const taskWorker = fakeWorker('tasks', () => ({ status: 'completed' }));
      fakeWorker('releases', () => ({ status: 'completed' }));
      const beforeDiscovery = simulateWorkflow(rendered, { discoveryOutputs: {} });

      const discovery = await runCommand(
        'forge-dispatcher',
        localArgs(beforeDiscovery.pods.find((pod) => pod.template === 'discovery')),
        { env },
      );
      expect(discovery.code, discovery.stderr).toBe(0);
      const outputs: Record<string, string> = {};
      const declared = rendered.spec.templates.find((template) => template.name === 'discovery');
      for (const parameter of (declared && 'container' in declared
        ? declared.outputs?.parameters
        : []) ?? []) {
        const path = (parameter.valueFrom?.path ?? '').replace('/tmp/forge/', `${folder}/`);
        outputs[parameter.name] = await readFile(path, 'utf8');
      }
      const { pods } = simulateWorkflow(rendered, {
        discoveryOutputs: outputs,
        workflowStatus: 'Failed',
      });
      const task = pods.find((pod) => pod.template === 'task');
      const [taskRun, release] = await Promise.all([
        runCommand('forge-dispatcher', localArgs(task), { env }),
        runCommand('forge-dispatcher', localArgs(pods.find((pod) => pod.template === 'release')), {
          env,
        }),
      ]);
      // A job still pending when the workflow fails, for the exit handler to stop.
      const pending = `${runId}/task/build/api`;
      await plane.jobs.create({ job_id: pending, run_id: runId, type: 'task' });
      const cancelRun = await runCommand(
        'forge-dispatcher',
        localArgs(pods.find((pod) => pod.template === 'cancel-run')),
        { env },
      );

      expect(pods.filter((pod) => pod.template === 'task')).toHaveLength(3);
      expect(taskRun.code, taskRun.stderr).toBe(0);
      expect(taskWorker.deliveries).toEqual([
        expect.objectContaining({
          job_id: `${runId}/task/test/api`,
          payload: {
            phase: 'test',
            project: { name: 'api', path: 'services/api' },
            steps: [UNIT_STEP],
          },
        }),
      ]);
      expect(release.code, release.stderr).toBe(0);
      expect((await plane.jobs.get(`${runId}/release/api`))?.status).toBe('completed');
      expect(cancelRun.code, cancelRun.stderr).toBe(0);
      expect(cancelRun.stderr).toContain('"reason":"workflow Failed"');
      expect(await plane.jobs.get(pending)).toMatchObject({ cancel_requested: true });
      expect((await plane.jobs.get(`${runId}/task/test/api`))?.cancel_requested).toBe(false);
    });

    it('with --on-sigterm detach, leaves the job running on SIGTERM, exits 3, and the retry attaches to it', async () => {
      const args = [
        'task',
        ...['--run-id', runId, '--repository', 'acme/monorepo', '--clone-url', '/srv/git/mono.git'],
        ...['--commit', COMMIT, '--phase', 'test', '--project', 'api'],
        ...['--project-path', 'services/api', '--steps', JSON.stringify([UNIT_STEP])],
        ...['--on-sigterm', 'detach', '--output', join(folder, 'task.json')],
      ];
      const jobId = `${runId}/task/test/api`;
      const evicted = startDispatcher(args, env);
      await evicted.waitFor('"job message sent"');
      // A worker took the job (by hand here): it runs while its dispatcher's pod is evicted.
      await plane.jobs.transition(jobId, 'running', { worker_id: 'worker-1' });

      evicted.child.kill('SIGTERM');
      const { code } = await evicted.exited;

      expect(code).toBe(3);
      expect(await plane.jobs.get(jobId)).toMatchObject({
        status: 'running',
        cancel_requested: false,
      });
      const retry = startDispatcher(args, env);
      await retry.waitFor('submitted by an earlier attempt; waiting for it');
      await plane.jobs.transition(jobId, 'completed');
      expect((await retry.exited).code, retry.stderr()).toBe(0);
      expect(await plane.jobs.listByRun(runId)).toHaveLength(1);
    });

    it('exits 3 when the job plane cannot be reached, for Argo to retry', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      });

      const result = await runCommand('forge-dispatcher', ['cancel-run', '--run-id', runId], {
        env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${closedPort}` },
      });

      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/^forge-dispatcher: /m);
    });
  },
);
