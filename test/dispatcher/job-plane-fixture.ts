/**
 * A job plane per test for the dispatcher's tests, with a scratch folder for the files a
 * dispatch writes and the FAKE workers (`fake-worker.ts`) a test starts on it: the embedded
 * plane, or the AWS plane on the local emulators. Workers are stopped, the plane closed and the
 * folder removed after each test, in that order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { sdkEnvironment } from '../../adapters/aws/emulators/local-aws.js';
import { provisionLocalJobPlane } from '../../adapters/aws/emulators/provision-local-job-plane.js';
import { createAwsJobPlane } from '../../adapters/job-plane/aws-job-plane.js';
import { createEmbeddedJobPlane } from '../../adapters/job-plane/embedded-job-plane.js';
import { loadAwsJobPlaneConfig } from '../../config/job-plane-environment.js';
import type { JobMessage } from '../../core/contracts/jobs.js';
import type { QueueName } from '../../core/job-plane/queue-settings.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { localAws, uniqueResourceName } from '../support/local-aws.js';
import { startFakeWorker, type FakeOutcome, type FakeWorker } from './fake-worker.js';

/** The current test's job plane; read it inside a test or hook only. */
export interface JobPlaneFixture {
  /** A scratch folder of the current test. */
  readonly folder: string;
  readonly plane: JobPlane;
  /** What a `forge-dispatcher` child process needs in its environment to reach {@link plane}. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts a FAKE worker on `queue` of the plane, stopped after the test. */
  fakeWorker(queue: QueueName, decide: (message: JobMessage) => FakeOutcome): FakeWorker;
}

interface OpenedPlane {
  readonly plane: JobPlane;
  readonly env: Readonly<Record<string, string>>;
}

/** For a test file: the embedded job plane, kept under the test's folder. */
export function useEmbeddedJobPlane(folderPrefix: string): JobPlaneFixture {
  return useJobPlane(folderPrefix, async (folder) => ({
    plane: await createEmbeddedJobPlane({ dataDirectory: join(folder, 'plane') }),
    env: {},
  }));
}

/**
 * For a test file: the AWS job plane on the local emulators, with queues and a table of its
 * own per test. Also points this process's SDK variables at the emulators, for the fake
 * workers' clients, as a dispatcher's own process does.
 */
export function useEmulatorJobPlane(folderPrefix: string, resourcePrefix: string): JobPlaneFixture {
  return useJobPlane(folderPrefix, async () => {
    const endpoints = localAws();
    Object.assign(process.env, sdkEnvironment(endpoints));
    const provisioned = await provisionLocalJobPlane(endpoints, uniqueResourceName(resourcePrefix));
    return {
      plane: await createAwsJobPlane(loadAwsJobPlaneConfig(provisioned.environment)),
      env: { ...provisioned.environment, ...sdkEnvironment(endpoints) },
    };
  });
}

function useJobPlane(
  folderPrefix: string,
  open: (folder: string) => Promise<OpenedPlane>,
): JobPlaneFixture {
  let current: (OpenedPlane & { readonly folder: string }) | undefined;
  const workers: FakeWorker[] = [];
  beforeEach(async () => {
    const folder = await mkdtemp(join(tmpdir(), folderPrefix));
    try {
      current = { folder, ...(await open(folder)) };
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  });
  afterEach(async () => {
    const ended = current;
    current = undefined;
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    if (ended === undefined) return;
    await ended.plane.close();
    await rm(ended.folder, { recursive: true, force: true });
  });
  const inTest = () => {
    if (current === undefined) throw new Error('the job plane exists only while a test runs');
    return current;
  };
  return {
    get folder() {
      return inTest().folder;
    },
    get plane() {
      return inTest().plane;
    },
    get env() {
      return inTest().env;
    },
    fakeWorker(queue, decide) {
      const worker = startFakeWorker(inTest().plane, queue, decide);
      workers.push(worker);
      return worker;
    },
  };
}
