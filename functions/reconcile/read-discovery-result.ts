import { z } from 'zod';
import {
  DiscoveryOutputSchema,
  type DiscoveryOutput,
} from '../../core/contracts/discovery-output.js';
import { discoveryResultKey, parseBlobLocation } from '../../core/job-plane/blob-keys.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { DiscoveryResultError } from '../../core/run-progress/run-progress-errors.js';

/**
 * Reads a run's discovery output from the results bucket: the key of the discovery job's
 * `result_location` when it names this bucket, else `<run>/discovery.json`. A missing result is
 * a retryable {@link DiscoveryResultError} (the record is delivered again); one that is not a
 * valid discovery output is not retryable.
 */
export async function readDiscoveryResult(
  results: Pick<BlobStore, 'get' | 'bucket'>,
  runId: string,
  resultLocation?: string,
): Promise<DiscoveryOutput> {
  const location = resultLocation === undefined ? undefined : parseBlobLocation(resultLocation);
  const key =
    location !== undefined && location.bucket === results.bucket
      ? location.key
      : discoveryResultKey(runId);
  const body = await results.get(key);
  if (body === undefined) {
    throw new DiscoveryResultError(
      `the discovery result of run ${runId} is not in ${results.bucket}/${key}`,
      { retryable: true },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new DiscoveryResultError(`${results.bucket}/${key} is not JSON`, { cause: error });
  }
  const parsed = DiscoveryOutputSchema.safeParse(json);
  if (!parsed.success) {
    throw new DiscoveryResultError(
      `${results.bucket}/${key} is not a discovery output: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}
