#!/usr/bin/env node
/**
 * `forge-pipeline`: the product's command line for operators and developers. Each command
 * module holds only the command's name, options and their parsing; its action imports the
 * implementation when it runs, so starting one command (or `--help`) loads none of the others
 * (the platform, the engine, the CUE evaluator).
 */
import { Command } from 'commander';
import { discoverCommand } from './commands/discover.js';
import { emulatorsCommand } from './commands/emulators.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { triggerCommand } from './commands/trigger.js';
import { workflowCommand } from './commands/workflow.js';
import { runCli } from './run-cli.js';

const program = new Command('forge-pipeline')
  .description('Catalyst Forge Pipeline: discover a monorepo and run its phases')
  .addCommand(discoverCommand())
  .addCommand(emulatorsCommand())
  .addCommand(runCommand())
  .addCommand(serveCommand())
  .addCommand(tokenCommand())
  .addCommand(triggerCommand())
  .addCommand(workflowCommand());

await runCli(program);
