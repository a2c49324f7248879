import { Command, InvalidArgumentError, Option } from 'commander';
import { TriggerType } from '../../core/contracts/api.js';
import type { TriggerFlags } from './trigger-run.js';

/**
 * `forge-pipeline trigger`: starts a run from any shell, as the GitHub Action does from a
 * workflow (the request is built and sent by the same code, `action/src`). The body is checked
 * against the API's contract first, so a mistyped SHA or ref is a usage error (exit 2) before
 * anything is sent; an answer other than 2xx exits 1 with the API's `error.message`. Prints the
 * run as JSON: `{"run_id", "run_url", "created"}`. The client is loaded only when the command
 * runs.
 */
export function triggerCommand(): Command {
  return new Command('trigger')
    .description('start a pipeline run for a commit through the API')
    .requiredOption('--api-url <url>', 'base URL of the API (the ApiUrl stack output)')
    .requiredOption('--repository <owner/name>', 'the GitHub repository')
    .requiredOption('--commit <sha>', 'the full commit SHA')
    .option('--branch <name>', 'the branch the commit is on')
    .option('--tag <tag>', 'the tag the run is for')
    .addOption(new Option('--token <token>', 'bearer token for the API').conflicts('tokenFile'))
    .option('--token-file <file>', 'read the bearer token from a file (- for stdin)')
    .addOption(new Option('--pr <number>', 'the pull request to report to').argParser(positive))
    .addOption(
      new Option('--trigger-type <type>', 'push, pull_request or manual').choices(
        Object.values(TriggerType),
      ),
    )
    .option('--context <name>', 'commit status context (default ci/catalyst-forge)')
    .action(async (flags: TriggerFlags) => {
      const { triggerRun } = await import('./trigger-run.js');
      await triggerRun(flags);
    });
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('must be a pull request number');
  }
  return number;
}
