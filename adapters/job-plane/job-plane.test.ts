import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import type { JobStreamEvent } from '../../core/contracts/job-stream.js';
import { discoveryJobId } from '../../core/contracts/jobs.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import {
  localAws,
  localAwsClientConfig,
  uniqueResourceName,
} from '../../test/support/local-aws.js';
import { sdkClientConfig } from '../aws/aws-client-config.js';
import { sdkEnvironment } from '../aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from './aws-job-plane.js';
import { createEmbeddedJobPlane } from './embedded-job-plane.js';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function embeddedPlane(): Promise<JobPlane> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-plane-'));
  folders.push(folder);
  const secretsFile = join(folder, 'secrets.json');
  await writeFile(secretsFile, JSON.stringify({ 'ci/token': 'embedded-secret' }));
  return createEmbeddedJobPlane({ dataDirectory: folder, secretsFile });
}

async function awsPlane(): Promise<JobPlane> {
  const endpoints = localAws();
  // The SDK reads these itself, as it would from `forge-pipeline emulators`' output.
  Object.assign(process.env, sdkEnvironment(endpoints));
  const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName('plane'));
  const secrets = new SecretsManagerClient(sdkClientConfig(localAwsClientConfig('secretsManager')));
  await secrets
    .send(new CreateSecretCommand({ Name: 'ci/token', SecretString: 'aws-secret' }))
    .catch(() => undefined);
  secrets.destroy();
  return createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment));
}

describe.each([
  ['embedded', embeddedPlane, 'embedded-secret'],
  ['aws on the emulators', awsPlane, 'aws-secret'],
])('the %s job plane', (_name, createPlane, secretValue) => {
  it('wires every port: queues, jobs and their change feed, blobs and secrets', async () => {
    const plane = await createPlane();
    const events: JobStreamEvent[] = [];
    const unsubscribe = plane.changes.subscribe((event) => {
      events.push(event);
      return Promise.resolve();
    });
    const jobId = discoveryJobId(uniqueResourceName('run'));
    try {
      await plane.queues.discovery.send('{"hello":1}', { deduplicationKey: jobId });
      const [message] = await plane.queues.discovery.receive({ waitTimeSeconds: 5 });
      await plane.queues.discovery.delete(message?.receiptHandle ?? 'missing');
      const created = await plane.jobs.create({
        job_id: jobId,
        run_id: jobId.split('/')[0] as string,
        type: 'discovery',
      });
      await plane.jobs.transition(jobId, 'running', { worker_id: 'w-1' });
      await plane.blobs.results.put('run/discovery.json', '{"projects":[]}');
      const url = await plane.blobs.results.presignGet('run/discovery.json', 60);
      const fetched = await (await fetch(url)).text();
      const secret = await plane.secrets.get('ci/token');
      await expect
        .poll(() => events.flatMap((event) => event.Records).length, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(2);

      expect(message?.body).toBe('{"hello":1}');
      expect(created.created).toBe(true);
      expect((await plane.jobs.get(jobId))?.status).toBe('running');
      expect(fetched).toBe('{"projects":[]}');
      expect(secret).toBe(secretValue);
      expect(
        events
          .flatMap((event) => event.Records)
          .map((record) => record.eventName)
          .slice(0, 2),
      ).toEqual(['INSERT', 'MODIFY']);
    } finally {
      await unsubscribe();
      await plane.close();
    }
  });
});
