import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { V1ConfigMap, V1Deployment, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommandLine } from '../../adapters/child-process/fork-module.js';
import { ForgeEnvironmentSchema, loadForgeEnvironment } from '../../config/forge-environment.js';
import {
  AwsJobPlaneEnvironmentSchema,
  loadAwsJobPlaneConfig,
} from '../../config/job-plane-environment.js';
import { WorkerEnvironmentSchema, loadWorkerEnvironment } from '../../config/worker-environment.js';
import type { ScaledObject, TriggerAuthentication } from '../../deploy/kubernetes/keda-objects.js';
import {
  manifestsToYaml,
  renderManifests,
  type ForgeManifest,
} from '../../deploy/kubernetes/render-manifests.js';
import { parseStackOutputs, StackOutputsError } from '../../deploy/kubernetes/stack-outputs.js';
import { projectRoot } from '../support/run-command.js';
import { deployedOutputs } from './deployed-outputs.js';

/** The spec's "Worker Pool Configuration". */
const SPEC_POOLS = {
  'forge-discovery-worker': {
    replicas: 5,
    requests: { cpu: '500m', memory: '2Gi' },
    limits: { cpu: '2000m', memory: '4Gi' },
    queue: 'test-pipeline-discovery.fifo',
    role: 'DiscoveryWorkerRole',
  },
  'forge-task-worker': {
    replicas: 20,
    requests: { cpu: '1000m', memory: '4Gi' },
    limits: { cpu: '4000m', memory: '8Gi' },
    queue: 'test-pipeline-tasks.fifo',
    role: 'TaskWorkerRole',
  },
} as const;

/** The variables a process of this product reads: its config schemas and the SDK's region. */
const READ_VARIABLES = new Set([
  ...Object.keys(ForgeEnvironmentSchema.shape),
  ...Object.keys(AwsJobPlaneEnvironmentSchema.shape),
  ...Object.keys(WorkerEnvironmentSchema.shape),
  'AWS_REGION',
]);

const outputs = parseStackOutputs(deployedOutputs());
const manifests = renderManifests(outputs, {
  workerImage: 'registry.example.com/forge-pipeline:worker',
  buildkitHosts: ['tcp://buildkit-0:8372', 'tcp://buildkit-1:8372'],
});

function find<T extends ForgeManifest>(kind: string, name: string): T {
  const found = manifests.find(
    (manifest) => manifest.kind === kind && manifest.metadata?.name === name,
  );
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found as T;
}

function configMapOf(deployment: V1Deployment): Record<string, string> {
  const name = deployment.spec?.template.spec?.containers[0]?.envFrom?.[0]?.configMapRef?.name;
  return find<V1ConfigMap>('ConfigMap', name ?? '').data ?? {};
}

describe('worker pools', () => {
  it("run the spec's replicas and resources, with the repository cache at /cache/repos", () => {
    for (const [name, spec] of Object.entries(SPEC_POOLS)) {
      // Arrange
      const deployment = find<V1Deployment>('Deployment', name);
      const pod = deployment.spec?.template.spec;
      const container = pod?.containers[0];

      // Act
      const cacheMount = container?.volumeMounts?.find(
        (mount) => mount.mountPath === '/cache/repos',
      );
      const cacheVolume = pod?.volumes?.find((volume) => volume.name === cacheMount?.name);
      const env = configMapOf(deployment);

      // Assert
      expect(deployment.spec?.replicas).toBe(spec.replicas);
      expect(container?.resources).toEqual({ requests: spec.requests, limits: spec.limits });
      expect(container?.image).toBe('registry.example.com/forge-pipeline:worker');
      expect(cacheVolume?.emptyDir?.sizeLimit).toBe('120Gi');
      expect(env.FORGE_REPOSITORY_CACHE_DIR).toBe('/cache/repos');
      expect(env.FORGE_REPOSITORY_CACHE_MAX_SIZE).toBe('100Gi');
      expect(loadForgeEnvironment(env).FORGE_REPOSITORY_CACHE_MAX_SIZE).toBe(100 * 1024 ** 3);
    }
  });

  it("probe /healthz and /readyz on the health port, outlast the worker's shutdown, and are scraped", () => {
    for (const name of Object.keys(SPEC_POOLS)) {
      // Arrange
      const deployment = find<V1Deployment>('Deployment', name);
      const pod = deployment.spec?.template.spec;
      const container = pod?.containers[0];

      // Act
      const worker = loadWorkerEnvironment(configMapOf(deployment));
      const port = container?.ports?.find((candidate) => candidate.name === 'metrics');

      // Assert
      expect(worker.FORGE_HEALTH_HOST).toBe('0.0.0.0');
      expect(port?.containerPort).toBe(worker.FORGE_HEALTH_PORT);
      expect(container?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(
        worker.FORGE_SHUTDOWN_GRACE + worker.FORGE_WORKER_RECEIVE_WAIT,
      );
      expect(deployment.spec?.template.metadata?.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(worker.FORGE_HEALTH_PORT),
        'prometheus.io/path': '/metrics',
      });
      expect(container?.args).toEqual([name === 'forge-task-worker' ? 'task' : 'discovery']);
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('set only variables the processes read, and the job plane parses from them', () => {
    // Arrange
    const configMaps = manifests.filter(
      (manifest) => manifest.kind === 'ConfigMap',
    ) as V1ConfigMap[];

    for (const configMap of configMaps) {
      const env = configMap.data ?? {};

      // Act
      const unknown = Object.keys(env).filter((name) => !READ_VARIABLES.has(name));
      const jobPlane = loadAwsJobPlaneConfig(env);

      // Assert
      expect(unknown).toEqual([]);
      expect(loadForgeEnvironment(env).FORGE_MODE).toBe('aws');
      expect(env.AWS_REGION).toBe('eu-west-1');
      expect(jobPlane.queueUrls.tasks).toBe(outputs.TasksQueueUrl);
      expect(jobPlane.deadLetterQueueUrls.discovery).toBe(outputs.DiscoveryDeadLetterQueueUrl);
      expect(jobPlane.jobsStreamArn).toBe(outputs.JobsStreamArn);
      expect(jobPlane.buckets.logs).toBe(outputs.LogsBucketName);
    }
    expect(configMaps.map((configMap) => configMap.metadata?.name).sort()).toEqual([
      'forge-discovery-worker-config',
      'forge-dispatcher-config',
      'forge-task-worker-config',
    ]);
  });

  it('give the task pool its BuildKit runners and the secrets of their TLS material', () => {
    // Arrange
    const env = configMapOf(find<V1Deployment>('Deployment', 'forge-task-worker'));

    // Act
    const worker = loadWorkerEnvironment(env);

    // Assert
    expect(worker.FORGE_BUILDKIT_HOSTS).toEqual(['tcp://buildkit-0:8372', 'tcp://buildkit-1:8372']);
    expect(worker.FORGE_BUILDKIT_TLS_CA_SECRET).toBe(outputs.BuildkitTlsCaSecretArn);
    expect(worker.FORGE_BUILDKIT_TLS_CERT_SECRET).toBe(outputs.BuildkitTlsCertSecretArn);
    expect(worker.FORGE_BUILDKIT_TLS_KEY_SECRET).toBe(outputs.BuildkitTlsKeySecretArn);
    expect(
      configMapOf(find<V1Deployment>('Deployment', 'forge-discovery-worker')),
    ).not.toHaveProperty('FORGE_BUILDKIT_HOSTS');
  });
});

describe('autoscaling', () => {
  it("scales each pool on its queue: 10 messages a pod, from the spec's replicas to 50, up 5 pods a minute, down after 300 s", () => {
    for (const [name, spec] of Object.entries(SPEC_POOLS)) {
      // Arrange, Act
      const scaled = find<ScaledObject>('ScaledObject', name);

      // Assert
      expect(scaled.spec.scaleTargetRef).toEqual({ name });
      expect(scaled.spec.minReplicaCount).toBe(spec.replicas);
      expect(scaled.spec.maxReplicaCount).toBe(50);
      expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior).toEqual({
        scaleUp: { policies: [{ type: 'Pods', value: 5, periodSeconds: 60 }] },
        scaleDown: { stabilizationWindowSeconds: 300 },
      });
      expect(scaled.spec.triggers).toEqual([
        {
          type: 'aws-sqs-queue',
          metadata: {
            queueURL: `https://sqs.eu-west-1.amazonaws.com/123456789012/${spec.queue}`,
            queueLength: '10',
            awsRegion: 'eu-west-1',
          },
          authenticationRef: { name: 'forge-queue-scaler' },
        },
      ]);
    }
  });

  it('authenticates KEDA with AWS pod identity and the queue scaler role', () => {
    // Arrange, Act
    const authentication = find<TriggerAuthentication>(
      'TriggerAuthentication',
      'forge-queue-scaler',
    );

    // Assert
    expect(authentication.spec).toEqual({
      podIdentity: { provider: 'aws', roleArn: outputs.QueueScalerRoleArn },
    });
  });
});

describe('identities and access', () => {
  it('annotate each service account with its IAM role, and run each pool under its own', () => {
    // Arrange
    const expected = {
      'forge-dispatcher': outputs.DispatcherRoleArn,
      'forge-discovery-worker': outputs.DiscoveryWorkerRoleArn,
      'forge-task-worker': outputs.TaskWorkerRoleArn,
    };

    for (const [name, roleArn] of Object.entries(expected)) {
      // Act
      const account = find('ServiceAccount', name);

      // Assert
      expect(account.metadata?.namespace).toBe('forge');
      expect(account.metadata?.annotations).toEqual({ 'eks.amazonaws.com/role-arn': roleArn });
    }
    for (const name of Object.keys(SPEC_POOLS)) {
      expect(find<V1Deployment>('Deployment', name).spec?.template.spec?.serviceAccountName).toBe(
        name,
      );
    }
  });

  it("let dispatcher pods report task results and the API's group create, get and patch Workflows, nothing more", () => {
    // Arrange
    const roles = manifests.filter((manifest) => manifest.kind === 'Role') as V1Role[];
    const bindings = manifests.filter(
      (manifest) => manifest.kind === 'RoleBinding',
    ) as V1RoleBinding[];

    // Act
    const grants = bindings.map((binding) => ({
      subjects: binding.subjects?.map((subject) => `${subject.kind}/${subject.name}`),
      rules: roles.find((role) => role.metadata?.name === binding.roleRef.name)?.rules,
    }));

    // Assert
    expect(grants).toEqual([
      {
        subjects: ['ServiceAccount/forge-dispatcher'],
        rules: [
          {
            apiGroups: ['argoproj.io'],
            resources: ['workflowtaskresults'],
            verbs: ['create', 'patch'],
          },
        ],
      },
      {
        subjects: ['Group/forge-workflow-submitters'],
        rules: [
          {
            apiGroups: ['argoproj.io'],
            resources: ['workflows'],
            verbs: ['create', 'get', 'patch'],
          },
        ],
      },
    ]);
    expect(manifests.filter((manifest) => manifest.kind === 'Namespace')).toHaveLength(1);
  });
});

describe('npm run manifests', () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'forge-manifests-'));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  function renderCli(
    args: readonly string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const [command, ...rest] = nodeCommandLine(
      new URL('../../deploy/kubernetes/manifests-cli.ts', import.meta.url),
      args,
    );
    return new Promise((resolve, reject) => {
      const child = spawn(command as string, rest, { cwd: projectRoot, timeout: 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('renders the YAML kubectl applies from the outputs file sst deploy writes', async () => {
    // Arrange
    const file = join(folder, 'outputs.json');
    await writeFile(file, JSON.stringify(deployedOutputs()));

    // Act
    const result = await renderCli([
      '--outputs',
      file,
      '--worker-image',
      'registry.example.com/forge-pipeline:worker',
      '--buildkit-hosts',
      'tcp://buildkit-0:8372, tcp://buildkit-1:8372',
    ]);

    // Assert
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const documents = loadAllYaml(result.stdout) as ForgeManifest[];
    expect(JSON.parse(JSON.stringify(documents))).toEqual(JSON.parse(JSON.stringify(manifests)));
    expect(manifestsToYaml(manifests)).toBe(result.stdout);
  });

  it('refuses outputs without a value it needs, naming it', () => {
    // Arrange
    const incomplete = deployedOutputs();
    delete incomplete['test-catalyst-forge-pipeline-cluster-access']?.TaskWorkerRoleArn;

    // Act, Assert
    expect(() => parseStackOutputs(incomplete)).toThrow(
      new StackOutputsError(
        'stack outputs: TaskWorkerRoleArn: Invalid input: expected string, received undefined',
      ),
    );
  });
});
