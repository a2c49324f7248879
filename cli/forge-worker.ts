#!/usr/bin/env node
/**
 * `forge-worker`: the long-running worker pool processes. Its pools arrive with the job plane;
 * until then it says so and exits with the usage code.
 */
import { Command } from 'commander';
import { UsageError, runCli } from './run-cli.js';

const program = new Command('forge-worker')
  .description('run a worker pool that takes jobs from its queue')
  .argument('<pool>', 'discovery | task')
  .action((pool: string) => {
    throw new UsageError(`the ${pool} worker pool is not available in this build yet`);
  });

await runCli(program);
