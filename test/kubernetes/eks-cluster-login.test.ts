/**
 * The Argo engine logging in to EKS as the API on Lambda does, without a kubeconfig: against the
 * stand-in Kubernetes API server on 127.0.0.1 (test/workflow/kubernetes-api-server.ts), which
 * records the bearer token of every request. No emulator of EKS exists, so `DescribeCluster` is
 * answered by aws-sdk-client-mock on a real EKS client: with an endpoint pointing at the
 * stand-in, or with the failures EKS sends. The token's presigned STS URL is decoded and its
 * SigV4 signature computed again here, independently, as STS would check it.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  AccessDeniedException,
  DescribeClusterCommand,
  EKSClient,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgoWorkflowEngine } from '../../adapters/kubernetes/argo-workflow-engine.js';
import { EksClusterLogin } from '../../adapters/kubernetes/eks-cluster-login.js';
import type { AwsCredentials } from '../../adapters/kubernetes/eks-token.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import {
  WorkflowEngineRejectedError,
  WorkflowEngineUnavailableError,
} from '../../core/workflow/workflow-errors.js';
import {
  startKubernetesApiServer,
  type KubernetesApiServer,
} from '../workflow/kubernetes-api-server.js';
import { RUN_ID, WORKFLOW_SETTINGS, workflowRun } from '../workflow/workflow-fixtures.js';

const CLUSTER = 'forge-staging';
const REGION = 'eu-west-1';
const CA_DATA = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n',
).toString('base64');
const CREDENTIALS = {
  accessKeyId: 'AKIAFORGETESTEXAMPLE',
  secretAccessKey: 'forge/test/secret+key',
  sessionToken: 'session/token+with=padding',
} as const;
const STARTED_AT = Date.parse('2026-03-01T08:00:00Z');
const MINUTE = 60_000;

let server: KubernetesApiServer;
let now: number;
let credentialRequests: number;
const eks = new EKSClient({
  region: REGION,
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const eksMock = mockClient(eks);

beforeEach(async () => {
  server = await startKubernetesApiServer();
  now = STARTED_AT;
  credentialRequests = 0;
  eksMock.reset();
});

afterEach(async () => {
  await server.close();
});

/** A login whose clock the test moves and whose credentials it counts. */
function login(credentials: AwsCredentials = CREDENTIALS): EksClusterLogin {
  return new EksClusterLogin({
    clusterName: CLUSTER,
    eks,
    credentials: () => {
      credentialRequests += 1;
      return Promise.resolve(credentials);
    },
    now: () => now,
  });
}

/** EKS describes the cluster with the stand-in as its endpoint. */
function describeClusterAnswers(): void {
  eksMock.on(DescribeClusterCommand, { name: CLUSTER }).resolves({
    cluster: {
      name: CLUSTER,
      status: 'ACTIVE',
      endpoint: server.url,
      certificateAuthority: { data: CA_DATA },
    },
  });
}

/** The tokens of the requests the stand-in received, in order. */
function bearerTokens(): string[] {
  return server.requests.map(({ headers }) => headers.authorization ?? '');
}

describe('ArgoWorkflowEngine logged in to EKS', () => {
  it('sends a k8s-aws-v1 token: a presigned GetCallerIdentity URL bound to the cluster', async () => {
    // Arrange
    describeClusterAnswers();
    const manifest = renderWorkflow(workflowRun(), WORKFLOW_SETTINGS);
    server.answer({ status: 201, body: manifest });
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    const submitted = await engine.submit(workflowRun());

    // Assert
    expect(submitted.name).toBe(`forge-run-${RUN_ID}`);
    const [authorization] = bearerTokens();
    expect(authorization).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = presignedUrl(authorization);
    expect(url.origin).toBe(`https://sts.${REGION}.amazonaws.com`);
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${CREDENTIALS.accessKeyId}/20260301/${REGION}/sts/aws4_request`,
      'X-Amz-Date': '20260301T080000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
    });
    expect(url.searchParams.get('X-Amz-Signature')).toBe(stsSignature(url, CLUSTER));
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(stsSignature(url, 'another-cluster'));
  });

  it('describes the cluster once, and reuses one token for 10 minutes before signing another', async () => {
    // Arrange
    describeClusterAnswers();
    server.answer({ status: 200, body: { metadata: { name: `forge-run-${RUN_ID}` } } });
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    await Promise.all([engine.cancel(RUN_ID), engine.cancel(RUN_ID)]);
    now = STARTED_AT + 9 * MINUTE;
    await engine.cancel(RUN_ID);
    now = STARTED_AT + 10 * MINUTE;
    await engine.cancel(RUN_ID);

    // Assert
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    expect(credentialRequests).toBe(2);
    const [first, concurrent, later, renewed] = bearerTokens();
    expect(concurrent).toBe(first);
    expect(later).toBe(first);
    expect(renewed).not.toBe(first);
    expect(presignedUrl(renewed).searchParams.get('X-Amz-Date')).toBe('20260301T081000Z');
  });

  it('signs a new token before the credentials that signed the last one expire', async () => {
    // Arrange
    const expiring = { ...CREDENTIALS, expiration: new Date(STARTED_AT + 4 * MINUTE) };
    const eksLogin = login(expiring);
    const first = await eksLogin.token();

    // Act
    now = STARTED_AT + 2 * MINUTE;
    const beforeMargin = await eksLogin.token();
    now = STARTED_AT + 3 * MINUTE;
    const withinMargin = await eksLogin.token();

    // Assert
    expect(beforeMargin).toBe(first);
    expect(withinMargin).not.toBe(first);
    expect(credentialRequests).toBe(2);
  });

  it('names the cluster when EKS does not know it, and sends nothing to any API server', async () => {
    // Arrange
    eksMock.on(DescribeClusterCommand).rejects(
      new ResourceNotFoundException({
        message: `No cluster found for name: ${CLUSTER}.`,
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    const submitting = engine.submit(workflowRun());

    // Assert
    await expect(submitting).rejects.toThrow(WorkflowEngineRejectedError);
    await expect(submitting).rejects.toThrow(
      `EKS cluster ${CLUSTER} does not exist in ${REGION}: check FORGE_KUBE_CLUSTER_NAME`,
    );
    await expect(submitting).rejects.toMatchObject({ retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it('reports a denied DescribeCluster as a refusal naming the cluster', async () => {
    // Arrange
    eksMock.on(DescribeClusterCommand).rejects(
      new AccessDeniedException({
        message: 'not authorized to perform: eks:DescribeCluster',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    const cancelling = engine.cancel(RUN_ID);

    // Assert
    await expect(cancelling).rejects.toThrow(WorkflowEngineRejectedError);
    await expect(cancelling).rejects.toThrow(
      `could not describe EKS cluster ${CLUSTER}: not authorized to perform: eks:DescribeCluster`,
    );
  });

  it('makes throttling retryable, and describes the cluster again on the next request', async () => {
    // Arrange
    eksMock
      .on(DescribeClusterCommand)
      .rejectsOnce(
        new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
      )
      .resolves({
        cluster: { name: CLUSTER, endpoint: server.url, certificateAuthority: { data: CA_DATA } },
      });
    server.answer({ status: 200, body: { metadata: { name: `forge-run-${RUN_ID}` } } });
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    const throttled = engine.cancel(RUN_ID);
    await expect(throttled).rejects.toThrow(WorkflowEngineUnavailableError);
    await engine.cancel(RUN_ID);

    // Assert
    await expect(throttled).rejects.toMatchObject({ retryable: true });
    expect(eksMock.commandCalls(DescribeClusterCommand)).toHaveLength(2);
    expect(server.requests).toHaveLength(1);
  });

  it('waits for a cluster that has no endpoint yet, as for an unavailable one', async () => {
    // Arrange
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, status: 'CREATING' } });
    const engine = ArgoWorkflowEngine.fromEksCluster(login(), WORKFLOW_SETTINGS);

    // Act
    const submitting = engine.submit(workflowRun());

    // Assert
    await expect(submitting).rejects.toThrow(WorkflowEngineUnavailableError);
    await expect(submitting).rejects.toThrow(
      /no API endpoint or certificate authority yet \(status CREATING\)/,
    );
  });
});

/** The presigned URL inside `Bearer k8s-aws-v1.<base64url>`. */
function presignedUrl(authorization: string | undefined): URL {
  const match = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (match?.[1] === undefined) throw new Error(`not an EKS token: ${authorization}`);
  return new URL(Buffer.from(match[1], 'base64url').toString('utf8'));
}

/**
 * The SigV4 signature STS expects for the presigned URL (query parameters, signed headers
 * `host` and `x-k8s-aws-id: <cluster>`, empty payload), computed from the AWS specification.
 */
function stsSignature(url: URL, cluster: string): string {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const hmac = (key: string | Buffer, text: string) =>
    createHmac('sha256', key).update(text).digest();
  const encode = (text: string) =>
    encodeURIComponent(text).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  const query = [...url.searchParams]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    query,
    `host:${url.host}\nx-k8s-aws-id:${cluster}\n`,
    'host;x-k8s-aws-id',
    sha256(''),
  ].join('\n');
  const [, date = '', region = '', service = ''] = (
    url.searchParams.get('X-Amz-Credential') ?? ''
  ).split('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    url.searchParams.get('X-Amz-Date'),
    `${date}/${region}/${service}/aws4_request`,
    sha256(canonicalRequest),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}
