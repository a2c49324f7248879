/**
 * Vitest global setup: starts the local AWS emulators once for the whole run, on 127.0.0.1
 * with free ports, hands their endpoints to the tests (`inject('localAws')`), and stops them
 * when the run ends, whether tests passed or not.
 */
import type { TestProject } from 'vitest/node';
import { startLocalAws, type LocalAwsEndpoints } from '../../adapters/aws/emulators/local-aws.js';

declare module 'vitest' {
  export interface ProvidedContext {
    localAws: LocalAwsEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const localAws = await startLocalAws();
  project.provide('localAws', localAws.endpoints);
  return () => localAws.stop();
}
