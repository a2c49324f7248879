import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { App } from 'sst/constructs';
import { setProject } from 'sst/project.js';
import sstPackage from 'sst/package.json' with { type: 'json' };
import { APP_NAME, forgeStacks, type ForgeStacks } from './forge-stacks.js';
import type { StageConfig } from './stage-config.js';

/** What to synthesize, and where. */
export interface OfflineSynthesisOptions {
  readonly stageConfig: StageConfig;
  readonly region: string;
  /** Any 12 digits; nothing is looked up in it. */
  readonly account: string;
  /** Where the cloud assembly (one `<stack>.template.json` per stack) is written. */
  readonly outdir: string;
  /** SST's working folder (generated types); a scratch folder outside the sources. */
  readonly workdir: string;
  /** The project root, where the handlers' paths are relative to. */
  readonly root: string;
}

/** The synthesized app: the stacks (for `Template.fromStack`) and the written assembly. */
export interface OfflineSynthesis {
  readonly stacks: ForgeStacks;
  readonly assembly: CloudAssembly;
}

/**
 * Synthesizes the SST app in this process without AWS credentials or network, the way SST's
 * own test mode does. `sst deploy` runs `initProject` (which reads the AWS identity) and then
 * synthesizes with every stack active, which bundles each function with esbuild in a deferred
 * task of `App.finish()` and fails the synthesis with "Could not find file for handler" when a
 * handler file is missing. Here the project is set directly, and every stack is inactive (as
 * under `sst remove`), so functions keep SST's inline placeholder code: nothing is bundled or
 * installed, the templates do not depend on the handlers existing, and the functions' runtime
 * and handler are still recorded (`SSTMetadata` output). `App.finish()` looks up the CDK
 * bootstrap bucket for source maps unless SST's test mode (`NODE_ENV=test`) is on, so the
 * synthesis runs in it.
 */
export async function synthesizeForgeApp(
  options: OfflineSynthesisOptions,
): Promise<OfflineSynthesis> {
  const { stageConfig, region, account, outdir, workdir, root } = options;
  process.env.JSII_DEPRECATED = 'quiet';
  await mkdir(workdir, { recursive: true });
  setProject({
    version: sstPackage.version,
    cdkVersion: sstPackage.dependencies['aws-cdk-lib'],
    constructsVersion: sstPackage.dependencies.constructs,
    config: {
      name: APP_NAME,
      stage: stageConfig.stage,
      region,
      ssmPrefix: `/sst/${APP_NAME}/${stageConfig.stage}/`,
    },
    stacks: () => undefined,
    metafile: { inputs: {}, outputs: {} },
    paths: {
      root,
      config: join(root, 'sst.config.ts'),
      out: workdir,
      artifacts: join(workdir, 'artifacts'),
    },
  });
  const app = new App(
    {
      mode: 'deploy',
      stage: stageConfig.stage,
      name: APP_NAME,
      region,
      account,
      isActiveStack: () => false,
    },
    { outdir },
  );
  const stacks = forgeStacks(app, stageConfig);
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'test';
  try {
    await app.finish();
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return { stacks, assembly: app.synth() };
}
