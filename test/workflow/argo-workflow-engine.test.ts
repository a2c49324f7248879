/**
 * The Argo engine against a stand-in Kubernetes API server on 127.0.0.1: the requests it makes
 * (method, path, content type, bearer token, body) and how it reads the answers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgoWorkflowEngine } from '../../adapters/kubernetes/argo-workflow-engine.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import {
  WorkflowEngineRejectedError,
  WorkflowEngineUnavailableError,
} from '../../core/workflow/workflow-errors.js';
import {
  kubeconfigYaml,
  startKubernetesApiServer,
  statusBody,
  type KubernetesApiServer,
} from './kubernetes-api-server.js';
import { RUN_ID, WORKFLOW_SETTINGS, workflowRun } from './workflow-fixtures.js';

const WORKFLOWS_PATH = '/apis/argoproj.io/v1alpha1/namespaces/ci/workflows';
const NAME = `forge-run-${RUN_ID}`;
const TOKEN = 'token-of-the-control-plane';

let folder: string;
let server: KubernetesApiServer;
let engine: ArgoWorkflowEngine;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'forge-argo-engine-'));
  server = await startKubernetesApiServer();
  const kubeconfig = join(folder, 'kubeconfig');
  await writeFile(
    kubeconfig,
    kubeconfigYaml([{ name: 'ci', server: server.url, token: TOKEN }], 'ci'),
  );
  engine = ArgoWorkflowEngine.fromKubeConfig({ kubeconfig }, WORKFLOW_SETTINGS);
});

afterEach(async () => {
  await server.close();
  await rm(folder, { recursive: true, force: true });
});

const created = (body: object) => ({ status: 201, body: { ...body, metadata: { uid: 'u-1' } } });

describe('ArgoWorkflowEngine', () => {
  it('submits a run by creating its workflow in the configured namespace', async () => {
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    server.answer(created(manifest));

    const submitted = await engine.submit(workflowRun());

    expect(submitted).toEqual({ name: NAME });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(WORKFLOWS_PATH);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.body).toEqual(manifest);
  });

  it('returns the existing workflow when the run was submitted before', async () => {
    server.answer(
      { status: 409, body: statusBody(409, 'AlreadyExists', `workflows "${NAME}" already exists`) },
      { status: 200, body: renderWorkflow(workflowRun(), WORKFLOW_SETTINGS) },
    );

    const submitted = await engine.submit(workflowRun());

    expect(submitted).toEqual({ name: NAME });
    expect(server.requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      `POST ${WORKFLOWS_PATH}`,
      `GET ${WORKFLOWS_PATH}/${NAME}`,
    ]);
  });

  it('refuses a workflow of the same name that belongs to another run', async () => {
    const other = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    server.answer(
      { status: 409, body: statusBody(409, 'AlreadyExists', 'already exists') },
      {
        status: 200,
        body: {
          ...other,
          metadata: { ...other.metadata, labels: { 'forge.projectcatalyst.io/run-id': 'x' } },
        },
      },
    );

    const submitting = engine.submit(workflowRun());

    await expect(submitting).rejects.toThrow(WorkflowEngineRejectedError);
    await expect(submitting).rejects.toThrow(/belongs to run x/);
  });

  it('cancels a run by stopping its workflow with a merge patch, as `argo stop` does', async () => {
    server.answer({ status: 200, body: { metadata: { name: NAME } } });

    await engine.cancel(RUN_ID);

    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        path: `${WORKFLOWS_PATH}/${NAME}`,
        body: { spec: { shutdown: 'Stop' } },
      }),
    ]);
    expect(server.requests[0]?.headers['content-type']).toBe('application/merge-patch+json');
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('cancels a run that has no workflow (never submitted, or deleted) without complaint', async () => {
    server.answer({
      status: 404,
      body: statusBody(404, 'NotFound', `workflows "${NAME}" not found`),
    });

    await expect(engine.cancel(RUN_ID)).resolves.toBeUndefined();
    await expect(engine.cancel('not_a_workflow_name')).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [500, 'InternalError', WorkflowEngineUnavailableError, true],
    [503, 'ServiceUnavailable', WorkflowEngineUnavailableError, true],
    [429, 'TooManyRequests', WorkflowEngineUnavailableError, true],
    [403, 'Forbidden', WorkflowEngineRejectedError, false],
    [422, 'Invalid', WorkflowEngineRejectedError, false],
  ])('maps a %s answer to a %s error, retryable %s', async (status, reason, type, retryable) => {
    server.answer({ status, body: statusBody(status, reason, `the API says ${reason}`) });

    const error: unknown = await engine.submit(workflowRun()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ retryable });
    expect((error as Error).message).toBe(
      `could not create workflow ci/${NAME}: the Kubernetes API answered ${status}: the API says ${reason}`,
    );
  });

  it('maps an unreachable API server to a retryable error', async () => {
    await server.close();

    const error: unknown = await engine.cancel(RUN_ID).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(WorkflowEngineUnavailableError);
    expect(error).toMatchObject({ retryable: true });
  });

  it('talks to the cluster of the context it is given instead of the current one', async () => {
    const other = await startKubernetesApiServer();
    try {
      const kubeconfig = join(folder, 'two-contexts');
      await writeFile(
        kubeconfig,
        kubeconfigYaml(
          [
            { name: 'ci', server: server.url, token: TOKEN },
            { name: 'staging', server: other.url, token: 'staging-token' },
          ],
          'ci',
        ),
      );
      other.answer({ status: 200, body: {} });
      const staging = ArgoWorkflowEngine.fromKubeConfig(
        { kubeconfig, context: 'staging' },
        WORKFLOW_SETTINGS,
      );

      await staging.cancel(RUN_ID);

      expect(server.requests).toEqual([]);
      expect(other.requests[0]?.headers.authorization).toBe('Bearer staging-token');
    } finally {
      await other.close();
    }
  });

  it.each([
    ['a kubeconfig that does not exist', { kubeconfig: '/nonexistent/kubeconfig' }],
    ['a context the kubeconfig does not have', { context: 'nowhere' }],
  ])('refuses %s', (_case, source) => {
    const kubeconfig = join(folder, 'kubeconfig');

    const creating = () =>
      ArgoWorkflowEngine.fromKubeConfig({ kubeconfig, ...source }, WORKFLOW_SETTINGS);

    expect(creating).toThrow(WorkflowEngineRejectedError);
  });
});
