import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { ForgeStacks } from '../../stacks/forge-stacks.js';
import { loadStageConfig, type StageConfig } from '../../stacks/stage-config.js';
import { synthesizeForgeApp } from '../../stacks/synthesize-forge-app.js';
import { projectRoot } from '../support/run-command.js';

/** The cluster every synthesized test stage points at. */
export const TEST_CLUSTER = {
  name: 'forge-test',
  /** An API server URL a stage may name instead of the endpoint EKS reports. */
  apiUrl: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
  oidcIssuerHost: 'oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
} as const;

/** A stage's configuration as `sst deploy` would read it from the environment. */
export function testStageConfig(stage: string, env: NodeJS.ProcessEnv = {}): StageConfig {
  return loadStageConfig(stage, {
    FORGE_EKS_CLUSTER_NAME: TEST_CLUSTER.name,
    FORGE_SERVICE_OIDC_ISSUER: `https://${TEST_CLUSTER.oidcIssuerHost}`,
    FORGE_DISPATCHER_IMAGE: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/forge:dispatcher',
    FORGE_ARGO_UI_URL: 'https://argo.example.com',
    ...env,
  });
}

/** One synthesized stage: its stacks, their templates, and the folder to remove afterwards. */
export interface SynthesizedStage {
  readonly stacks: ForgeStacks;
  readonly data: Template;
  readonly controlPlane: Template;
  readonly clusterAccess: Template;
  /** Every stack's template, for checks over the whole app. */
  readonly all: readonly Template[];
  remove(): Promise<void>;
}

/** Synthesizes the app for `config` offline into a temporary folder. */
export async function synthesizeStage(config: StageConfig): Promise<SynthesizedStage> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-synth-'));
  const { stacks } = await synthesizeForgeApp({
    stageConfig: config,
    region: 'eu-west-1',
    account: '123456789012',
    outdir: join(folder, 'out'),
    workdir: join(folder, 'sst'),
    root: projectRoot,
  });
  const data = Template.fromStack(stacks.data);
  const controlPlane = Template.fromStack(stacks.controlPlane);
  const clusterAccess = Template.fromStack(stacks.clusterAccess);
  return {
    stacks,
    data,
    controlPlane,
    clusterAccess,
    all: [data, controlPlane, clusterAccess],
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}
