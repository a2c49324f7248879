import { readFile } from 'node:fs/promises';
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

/** The flags of `forge-pipeline trigger`. */
export interface TriggerFlags {
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
 * What `forge-pipeline trigger` does: builds the run request as the GitHub Action does, checks
 * it against the API's contract (a bad value is a {@link UsageError}, before anything is sent),
 * sends it and prints the run as JSON: `{"run_id", "run_url", "created"}`.
 */
export async function triggerRun(flags: TriggerFlags): Promise<void> {
  const token = await bearerToken(flags);
  const body = runRequestBody({
    repository: flags.repository,
    commit: flags.commit,
    branch: flags.branch,
    tag: flags.tag,
    triggerType:
      flags.triggerType ?? (flags.pr === undefined ? TriggerType.manual : TriggerType.pullRequest),
    prNumber: flags.pr,
    statusContext: flags.context,
  });
  const checked = CreateRunRequestSchema.safeParse(body satisfies CreateRunRequestInput);
  if (!checked.success) throw new UsageError(validationErrorBody(checked.error).error.message);
  const run = await createRun({ apiUrl: flags.apiUrl, token, body });
  process.stdout.write(
    `${JSON.stringify({ run_id: run.runId, run_url: run.runUrl, created: run.created }, null, 2)}\n`,
  );
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
