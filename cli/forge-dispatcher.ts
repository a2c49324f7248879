#!/usr/bin/env node
/**
 * `forge-dispatcher`: what Argo runs in dispatcher pods. Its commands arrive with the job
 * plane; until then it says so and exits with the usage code.
 */
import { Command } from 'commander';
import { UsageError, runCli } from './run-cli.js';

const program = new Command('forge-dispatcher')
  .description('submit a job to a worker pool and wait for its outcome (what Argo runs)')
  .argument('<kind>', 'discovery | task | release')
  .action((kind: string) => {
    throw new UsageError(`dispatching ${kind} jobs is not available in this build yet`);
  });

await runCli(program);
