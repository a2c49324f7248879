import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createRun } from '../../action/src/create-run.js';
import { runRequestBody, type RunTriggerType } from '../../action/src/run-request.js';
import {
  CreateRunRequestSchema,
  TriggerType,
  validationErrorBody,
  type CreateRunRequestInput,
} from '../../core/contracts/api.js';
import { errorMessage } from '../../core/errors.js';
import { UsageError } from '../run-cli.js';

interface TriggerFlags {
  apiUrl: string;
  repository: string;
  commit: string;
  branch?: string;
  tag?: string;
  token?: string;
  tokenFile?: string;
  pr?: number;
  triggerType?: RunTriggerType;
  context?: string;
}

/**
 * `forge-pipeline trigger`: starts a run from any shell, as the GitHub Action does from a
 * workflow (the request is built and sent by the same code, `action/src`). The body is checked
 * against the API's contract first, so a mistyped SHA or ref is a usage error (exit 2) before
 * anything is sent; an answer other than 2xx exits 1 with the API's `error.message`. Prints the
 * run as JSON: `{"run_id", "run_url", "created"}`.
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
      const token = await bearerToken(flags);
      const body = runRequestBody({
        repository: flags.repository,
        commit: flags.commit,
        branch: flags.branch,
        tag: flags.tag,
        triggerType:
          flags.triggerType ??
          (flags.pr === undefined ? TriggerType.manual : TriggerType.pullRequest),
        prNumber: flags.pr,
        statusContext: flags.context,
      });
      const checked = CreateRunRequestSchema.safeParse(body satisfies CreateRunRequestInput);
      if (!checked.success) throw new UsageError(validationErrorBody(checked.error).error.message);
      const run = await createRun({ apiUrl: flags.apiUrl, token, body });
      process.stdout.write(
        `${JSON.stringify({ run_id: run.runId, run_url: run.runUrl, created: run.created }, null, 2)}\n`,
      );
    });
}

async function bearerToken(flags: TriggerFlags): Promise<string> {
  let token = flags.token;
  if (token === undefined && flags.tokenFile !== undefined) {
    try {
      token = flags.tokenFile === '-' ? await readStdin() : await readFile(flags.tokenFile, 'utf8');
    } catch (error) {
      throw new UsageError(`--token-file ${flags.tokenFile}: ${errorMessage(error)}`);
    }
  }
  token = token?.trim();
  if (!token) throw new UsageError('a token is needed: --token TOKEN or --token-file FILE');
  return token;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('must be a pull request number');
  }
  return number;
}
