/**
 * `npm run synth [-- --stage NAME --out DIR --region REGION]`: writes the CloudFormation
 * templates of a stage to a folder (`.synth/<stage>` by default), offline: no AWS credentials,
 * no network, a placeholder account, and example values for the stage configuration the
 * environment does not set (the cluster, the dispatcher image). Functions are not bundled
 * (`sst deploy` does that); handler files that do not exist yet are reported.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { runCli } from '../cli/run-cli.js';
import { HANDLERS } from './control-plane-stack.js';
import { loadStageConfig } from './stage-config.js';
import { synthesizeForgeApp } from './synthesize-forge-app.js';

/** An account id that exists nowhere; nothing is looked up in it. */
const PLACEHOLDER_ACCOUNT = '123456789012';

/** Example stage configuration, used for the variables the environment leaves unset. */
const EXAMPLE_STAGE_ENVIRONMENT = {
  FORGE_EKS_CLUSTER_NAME: 'forge-example',
  FORGE_SERVICE_OIDC_ISSUER: 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123456789',
  FORGE_DISPATCHER_IMAGE: `${PLACEHOLDER_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/forge-pipeline:dispatcher`,
} as const;

interface SynthFlags {
  stage: string;
  out?: string;
  region: string;
}

const program = new Command('synth')
  .description('write the CloudFormation templates of a stage, offline')
  .option('--stage <name>', 'the stage to synthesize', 'local')
  .option('--out <folder>', 'where the templates go (default .synth/<stage>)')
  .option('--region <region>', 'the region the templates are for', 'us-east-1')
  .action(async (flags: SynthFlags) => {
    const root = resolve('.');
    const outdir = resolve(flags.out ?? join('.synth', flags.stage));
    const stageConfig = loadStageConfig(flags.stage, {
      ...EXAMPLE_STAGE_ENVIRONMENT,
      ...process.env,
    });
    await rm(outdir, { recursive: true, force: true });
    const { assembly } = await synthesizeForgeApp({
      stageConfig,
      region: flags.region,
      account: PLACEHOLDER_ACCOUNT,
      outdir,
      workdir: join(root, '.synth', '.sst'),
      root,
    });
    for (const stack of assembly.stacks) {
      process.stdout.write(`${relative(root, join(outdir, stack.templateFile))}\n`);
    }
    for (const handler of Object.values(HANDLERS)) {
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.ts`;
      if (!existsSync(join(root, file))) {
        process.stderr.write(`synth: note: ${file} does not exist yet; sst deploy needs it\n`);
      }
    }
  });

await runCli(program);
