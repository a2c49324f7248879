import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_EMBEDDED_TASK_CONCURRENCY as DEFAULT_TASK_CONCURRENCY } from '../../engine/embedded-defaults.js';
import type { RunFlags } from './run-pipeline.js';

/**
 * `forge-pipeline run <repo-path>`: runs a repository's pipeline on this machine, in one
 * process: the embedded job plane, a discovery and a task pool, and the in-process engine.
 * Shows progress (a live view on a terminal, plain lines otherwise), then a summary with
 * each step's duration and log file. Exit 0 when the run succeeded, 1 when it failed or was
 * cancelled (Ctrl-C cancels cleanly; a second Ctrl-C leaves at once), 2 for a usage error.
 * The engine and the worker pools are loaded only when the command runs.
 */
export function runCommand(): Command {
  return new Command('run')
    .description("run a repository's pipeline on this machine (embedded mode)")
    .argument('<repo-path>', 'a git repository with .forge configuration')
    .option('--branch <name>', 'the branch the run is for (default: the checked-out branch)')
    .option('--commit <ref>', 'the commit to run (default: HEAD)', 'HEAD')
    .option(
      '--concurrency <n>',
      `task jobs at once (default ${DEFAULT_TASK_CONCURRENCY})`,
      parseConcurrency,
      DEFAULT_TASK_CONCURRENCY,
    )
    .option('--data-dir <folder>', 'where logs and results go (env FORGE_DATA_DIR)')
    .option('--secrets-file <file>', 'a JSON file {"path": "value"} of the secrets steps name')
    .option('--plain', 'plain progress lines even on a terminal')
    .action(async (path: string, flags: RunFlags) => {
      const { runPipeline } = await import('./run-pipeline.js');
      process.exitCode = await runPipeline(path, flags);
    });
}

function parseConcurrency(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 64) {
    throw new InvalidArgumentError('must be a whole number from 1 to 64');
  }
  return parsed;
}
