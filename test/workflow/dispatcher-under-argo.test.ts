/**
 * `forge-dispatcher` as the rendered workflow runs it: child processes with the arguments Argo
 * would give each pod, on the job plane of the local emulators. Jobs are ended by FAKE workers
 * (`test/dispatcher/fake-worker.ts`) or by hand, not by the product's worker runtime.
 */
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import type { WorkflowManifest } from '../../core/workflow/workflow-manifest.js';
import { COMMIT, DISCOVERY_OUTPUT, UNIT_STEP } from '../dispatcher/dispatcher-fixtures.js';
import { startDispatcher } from '../dispatcher/dispatcher-process.js';
import { useEmulatorJobPlane } from '../dispatcher/job-plane-fixture.js';
import { uniqueResourceName } from '../support/local-aws.js';
import { runCommand } from '../support/run-command.js';
import { simulateWorkflow, type SimulatedPod } from './argo-run-simulation.js';
import { WORKFLOW_SETTINGS } from './workflow-fixtures.js';

const CLI_TEST_TIMEOUT_MS = 90_000;

const fixture = useEmulatorJobPlane('forge-dispatcher-argo-', 'argo');
let runId: string;

beforeEach(() => {
  runId = uniqueResourceName('run');
});

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
  return pod.args.map((arg) => arg.replace(/^\/tmp\/forge\//, `${fixture.folder}/`));
}

describe(
  'forge-dispatcher with the arguments of a rendered workflow',
  { timeout: CLI_TEST_TIMEOUT_MS },
  () => {
    it('runs discovery, a task from the discovery output, a release and the exit handler', async () => {
      const rendered = manifest();
      fixture.fakeWorker('discovery', () => ({ status: 'completed', result: DISCOVERY_OUTPUT }));
      const taskWorker = fixture.fakeWorker('tasks', () => ({ status: 'completed' }));
      fixture.fakeWorker('releases', () => ({ status: 'completed' }));
      const beforeDiscovery = simulateWorkflow(rendered, { discoveryOutputs: {} });

      const discovery = await runCommand(
        'forge-dispatcher',
        localArgs(beforeDiscovery.pods.find((pod) => pod.template === 'discovery')),
        { env: fixture.env },
      );
      expect(discovery.code, discovery.stderr).toBe(0);
      const outputs: Record<string, string> = {};
      const declared = rendered.spec.templates.find((template) => template.name === 'discovery');
      for (const parameter of (declared && 'container' in declared
        ? declared.outputs?.parameters
        : []) ?? []) {
        const path = (parameter.valueFrom?.path ?? '').replace('/tmp/forge/', `${fixture.folder}/`);
        outputs[parameter.name] = await readFile(path, 'utf8');
      }
      const { pods } = simulateWorkflow(rendered, {
        discoveryOutputs: outputs,
        workflowStatus: 'Failed',
      });
      const task = pods.find((pod) => pod.template === 'task');
      const [taskRun, release] = await Promise.all([
        runCommand('forge-dispatcher', localArgs(task), { env: fixture.env }),
        runCommand('forge-dispatcher', localArgs(pods.find((pod) => pod.template === 'release')), {
          env: fixture.env,
        }),
      ]);
      // A job still pending when the workflow fails, for the exit handler to stop.
      const pending = `${runId}/task/build/api`;
      await fixture.plane.jobs.create({ job_id: pending, run_id: runId, type: 'task' });
      const cancelRun = await runCommand(
        'forge-dispatcher',
        localArgs(pods.find((pod) => pod.template === 'cancel-run')),
        { env: fixture.env },
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
      expect((await fixture.plane.jobs.get(`${runId}/release/api`))?.status).toBe('completed');
      expect(cancelRun.code, cancelRun.stderr).toBe(0);
      expect(cancelRun.stderr).toContain('"reason":"workflow Failed"');
      expect(await fixture.plane.jobs.get(pending)).toMatchObject({ cancel_requested: true });
      expect((await fixture.plane.jobs.get(`${runId}/task/test/api`))?.cancel_requested).toBe(
        false,
      );
    });

    it('with --on-sigterm detach, leaves the job running on SIGTERM, exits 3, and the retry attaches to it', async () => {
      const args = [
        'task',
        ...['--run-id', runId, '--repository', 'acme/monorepo', '--clone-url', '/srv/git/mono.git'],
        ...['--commit', COMMIT, '--phase', 'test', '--project', 'api'],
        ...['--project-path', 'services/api', '--steps', JSON.stringify([UNIT_STEP])],
        ...['--on-sigterm', 'detach', '--output', join(fixture.folder, 'task.json')],
      ];
      const jobId = `${runId}/task/test/api`;
      const evicted = startDispatcher(args, fixture.env);
      await evicted.waitFor('"job message sent"');
      // A worker took the job (by hand here): it runs while its dispatcher's pod is evicted.
      await fixture.plane.jobs.transition(jobId, 'running', { worker_id: 'worker-1' });

      evicted.child.kill('SIGTERM');
      const { code } = await evicted.exited;

      expect(code).toBe(3);
      expect(await fixture.plane.jobs.get(jobId)).toMatchObject({
        status: 'running',
        cancel_requested: false,
      });
      const retry = startDispatcher(args, fixture.env);
      await retry.waitFor('submitted by an earlier attempt; waiting for it');
      await fixture.plane.jobs.transition(jobId, 'completed');
      expect((await retry.exited).code, retry.stderr()).toBe(0);
      expect(await fixture.plane.jobs.listByRun(runId)).toHaveLength(1);
    });

    it('exits 3 when the job plane cannot be reached, for Argo to retry', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      });

      const result = await runCommand('forge-dispatcher', ['cancel-run', '--run-id', runId], {
        env: { ...fixture.env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${closedPort}` },
      });

      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(/^forge-dispatcher: /m);
    });
  },
);
