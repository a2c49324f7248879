import { createAwsJobPlane } from '../adapters/job-plane/aws-job-plane.js';
import { ConfigurationError, parseEnvironment } from '../config/environment.js';
import { ForgeEnvironmentSchema } from '../config/forge-environment.js';
import { loadAwsJobPlaneConfig } from '../config/job-plane-environment.js';
import type { JobPlane } from '../core/ports/job-plane.js';

const DispatcherModeSchema = ForgeEnvironmentSchema.pick({ FORGE_MODE: true });

/**
 * Checks, before anything is submitted, that the dispatcher can reach the workers' job plane.
 * The embedded job plane lives inside one process, so a dispatcher (always a process of its
 * own) could never reach the workers through it: `FORGE_MODE` must be `aws`, on AWS or on the
 * local emulators. Throws a {@link ConfigurationError} naming `FORGE_MODE` otherwise.
 */
export function assertDispatcherMode(env: NodeJS.ProcessEnv = process.env): void {
  const { FORGE_MODE } = parseEnvironment(DispatcherModeSchema, env);
  if (FORGE_MODE === 'aws') return;
  throw new ConfigurationError(
    'FORGE_MODE',
    `is "${FORGE_MODE}", but a dispatcher needs the job plane its workers use, and the embedded one ` +
      'exists only inside a single process: set FORGE_MODE=aws with the FORGE_ variables of AWS, ' +
      'or of local emulators (run `forge-pipeline emulators` and source what it prints)',
  );
}

/** Opens the job plane the dispatcher talks to, from `FORGE_` and `AWS_` variables. */
export async function openDispatcherPlane(env: NodeJS.ProcessEnv = process.env): Promise<JobPlane> {
  assertDispatcherMode(env);
  return createAwsJobPlane(loadAwsJobPlaneConfig(env));
}
