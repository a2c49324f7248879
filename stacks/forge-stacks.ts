import type { App } from 'sst/constructs';
import { ClusterAccessStack } from './cluster-access-stack.js';
import { ControlPlaneStack } from './control-plane-stack.js';
import { DataStack } from './data-stack.js';
import type { StageConfig } from './stage-config.js';

/** The SST app's name; stack names are `<stage>-catalyst-forge-pipeline-<stack>`. */
export const APP_NAME = 'catalyst-forge-pipeline';

/** The app's stacks, for outputs and tests. */
export interface ForgeStacks {
  readonly data: DataStack;
  readonly controlPlane: ControlPlaneStack;
  readonly clusterAccess: ClusterAccessStack;
}

/**
 * Adds the stage's stacks to an SST app (`sst.config.ts`, the offline synthesis of
 * `npm run synth` and the tests): the data stack (queues, table, buckets, secrets, alarms), the
 * control plane (API, reconciler, GitHub fan-out) and the cluster access roles. Every function
 * runs on Node 22 (`nodejs22.x`) as an ES module.
 */
export function forgeStacks(app: App, config: StageConfig): ForgeStacks {
  app.setDefaultFunctionProps({
    runtime: 'nodejs22.x',
    architecture: 'x86_64',
    tracing: 'disabled',
    nodejs: { format: 'esm' },
  });
  const data = new DataStack(app, 'data', { config });
  const controlPlane = new ControlPlaneStack(app, 'control-plane', { config, data });
  const clusterAccess = new ClusterAccessStack(app, 'cluster-access', { config, data });
  return { data, controlPlane, clusterAccess };
}
