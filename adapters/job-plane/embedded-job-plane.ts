import { join } from 'node:path';
import { CachingSecretStore } from '../../core/job-plane/caching-secret-store.js';
import { QUEUE_SETTINGS, QueueName } from '../../core/job-plane/queue-settings.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { BlobWriter } from '../embedded/blob-writer.js';
import { EmbeddedBlobStore } from '../embedded/embedded-blob-store.js';
import { EmbeddedJobQueue } from '../embedded/embedded-job-queue.js';
import { EmbeddedJobStore } from '../embedded/embedded-job-store.js';
import { EmbeddedSecretStore } from '../embedded/embedded-secret-store.js';
import { LocalBlobServer } from '../embedded/local-blob-server.js';

export interface EmbeddedJobPlaneOptions {
  /** Where blobs are kept (`<dataDirectory>/blobs/<bucket>/<key>`). */
  readonly dataDirectory: string;
  /** A JSON file `{ "path": "value" }` of the secrets steps may name; none when absent. */
  readonly secretsFile?: string | undefined;
  /** How long secrets are cached; default 5 minutes. */
  readonly secretsCacheMs?: number;
}

/** Bucket names of the embedded mode; the same roles as the stacks' buckets. */
export const EMBEDDED_BUCKETS = {
  results: 'forge-results',
  logs: 'forge-logs',
  staging: 'forge-staging',
} as const;

/**
 * The job plane of the embedded mode (DESIGN.md section 2): in-process queues and job store
 * with SQS and DynamoDB semantics, blobs in a local folder served to presigned URLs on
 * 127.0.0.1, and secrets from a file.
 */
export async function createEmbeddedJobPlane(options: EmbeddedJobPlaneOptions): Promise<JobPlane> {
  const root = join(options.dataDirectory, 'blobs');
  const server = await LocalBlobServer.start({ root });
  const secrets = options.secretsFile
    ? await EmbeddedSecretStore.fromFile(options.secretsFile)
    : new EmbeddedSecretStore();
  const queues = {} as Record<QueueName, EmbeddedJobQueue>;
  const deadLetters = {} as Record<QueueName, EmbeddedJobQueue>;
  for (const name of Object.values(QueueName)) {
    const settings = QUEUE_SETTINGS[name];
    deadLetters[name] = new EmbeddedJobQueue({ name: `${name}-dlq`, settings });
    queues[name] = new EmbeddedJobQueue({ name, settings, deadLetterQueue: deadLetters[name] });
  }
  const jobs = new EmbeddedJobStore();
  const writer = new BlobWriter(root);
  const blob = (bucket: string) =>
    new EmbeddedBlobStore({ root, bucket, presigner: server, writer });
  let closing: Promise<void> | undefined;
  return {
    queues,
    deadLetters,
    jobs,
    changes: jobs,
    jobChanges: jobs,
    blobs: {
      results: blob(EMBEDDED_BUCKETS.results),
      logs: blob(EMBEDDED_BUCKETS.logs),
      staging: blob(EMBEDDED_BUCKETS.staging),
    },
    secrets: new CachingSecretStore({ store: secrets, ttlMs: options.secretsCacheMs }),
    close() {
      closing ??= (async () => {
        await Promise.all(
          [...Object.values(queues), ...Object.values(deadLetters)].map((queue) => queue.close()),
        );
        await jobs.close();
        await Promise.all([server.close(), writer.close()]);
      })();
      return closing;
    },
  };
}
