/**
 * The certificate authority `DescribeCluster` reports is the one the EKS login trusts: an HTTPS
 * API server on 127.0.0.1 with a certificate of the test CA in test/kubernetes/fixtures (made
 * once with openssl, valid for 100 years, for 127.0.0.1 only) is reached when EKS names that
 * CA, and refused when it names another. `DescribeCluster` is answered by aws-sdk-client-mock
 * (no emulator of EKS exists).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgoWorkflowEngine } from '../../adapters/kubernetes/argo-workflow-engine.js';
import { EksClusterLogin } from '../../adapters/kubernetes/eks-cluster-login.js';
import { WorkflowEngineRejectedError } from '../../core/workflow/workflow-errors.js';
import { RUN_ID, WORKFLOW_SETTINGS } from '../workflow/workflow-fixtures.js';

const CLUSTER = 'forge-tls';
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));
const base64 = (pem: Buffer) => pem.toString('base64');

let server: Server;
let url: string;
let authorizations: (string | undefined)[];
const eks = new EKSClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const eksMock = mockClient(eks);

beforeEach(async () => {
  authorizations = [];
  eksMock.reset();
  server = createServer(
    { key: fixture('api-server-key.pem'), cert: fixture('api-server.pem') },
    (request, response) => {
      authorizations.push(request.headers.authorization);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"metadata":{}}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function engineFor(cluster: { endpoint: string; caData: string }): ArgoWorkflowEngine {
  eksMock.on(DescribeClusterCommand).resolves({
    cluster: {
      name: CLUSTER,
      endpoint: cluster.endpoint,
      certificateAuthority: { data: cluster.caData },
    },
  });
  const login = new EksClusterLogin({
    clusterName: CLUSTER,
    eks,
    credentials: () => Promise.resolve({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }),
  });
  return ArgoWorkflowEngine.fromEksCluster(login, WORKFLOW_SETTINGS);
}

describe('EKS login over TLS', () => {
  it('trusts the API server whose certificate the cluster CA signed', async () => {
    // Arrange
    const engine = engineFor({ endpoint: url, caData: base64(fixture('cluster-ca.pem')) });

    // Act
    await engine.cancel(RUN_ID);

    // Assert
    expect(authorizations).toEqual([expect.stringMatching(/^Bearer k8s-aws-v1\./)]);
  });

  it('refuses an API server that the cluster CA did not sign, before sending the token', async () => {
    // Arrange
    const engine = engineFor({ endpoint: url, caData: base64(fixture('other-ca.pem')) });

    // Act
    const cancelling = engine.cancel(RUN_ID);

    // Assert
    await expect(cancelling).rejects.toThrow(WorkflowEngineRejectedError);
    expect(authorizations).toEqual([]);
  });

  it('refuses an endpoint that is plain HTTP on another machine', async () => {
    // Arrange
    const engine = engineFor({
      endpoint: 'http://kubernetes.example.com',
      caData: base64(fixture('cluster-ca.pem')),
    });

    // Act
    const cancelling = engine.cancel(RUN_ID);

    // Assert
    await expect(cancelling).rejects.toThrow(
      `the API endpoint of EKS cluster ${CLUSTER} is not https: http://kubernetes.example.com`,
    );
  });
});
