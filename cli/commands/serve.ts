import { Logger } from '@aws-lambda-powertools/logger';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadAuthConfig } from '../../config/auth-environment.js';
import { loadForgeEnvironment } from '../../config/forge-environment.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { loadPostgresConfig } from '../../config/postgres-environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';
import { EmbeddedPlatform } from '../../platform/embedded-platform.js';
import { ExitCode } from '../run-cli.js';
import { resolveRunSource } from './run-source.js';
import { followRun } from './serve-run-follower.js';

interface ServeFlags {
  port?: number;
  run?: string;
  branch?: string;
  once?: boolean;
}

/**
 * `forge-pipeline serve`: the platform on this machine (API, Postgres, local issuer, engine,
 * reconciler and, in the embedded mode, the worker pools), on 127.0.0.1. With `--run PATH`
 * it registers that repository, starts a run of it through `POST /v1/runs` with a token of
 * the local issuer, follows it, and prints the finished `GET /v1/runs/{id}`; then it keeps
 * serving (printing how to call it) unless `--once` asks it to stop there.
 */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the API and run the platform on this machine')
    .option(
      '--port <n>',
      "the API's port on 127.0.0.1 (env FORGE_API_PORT, default 8787)",
      parsePort,
    )
    .option('--run <repo-path>', 'register this repository and run its pipeline through the API')
    .option('--branch <name>', 'the branch of the run started by --run')
    .option('--once', 'stop after the run started by --run has ended')
    .action(async (flags: ServeFlags) => {
      process.exitCode = await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<number> {
  const forge = loadForgeEnvironment();
  const dataDirectory = resolve(forge.FORGE_DATA_DIR);
  const port = flags.port ?? forge.FORGE_API_PORT;
  const auth = loadAuthConfig();
  const platform = await EmbeddedPlatform.start({
    mode: forge.FORGE_MODE,
    dataDirectory,
    port,
    postgres: loadPostgresConfig(),
    auth,
    github: loadGitHubConfig(),
    workflow: loadWorkflowConfig(),
    // JSON log lines for warnings and errors only, unless POWERTOOLS_LOG_LEVEL asks for more.
    logger: new Logger({
      serviceName: 'forge-platform',
      ...(process.env.POWERTOOLS_LOG_LEVEL === undefined ? { logLevel: 'WARN' } : {}),
    }),
  });
  const stopped = new Promise<void>((resolveStop) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`\n${signal}: stopping\n`);
      resolveStop();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  try {
    process.stdout.write(
      `Catalyst Forge Pipeline API on ${platform.url} (${forge.FORGE_MODE} mode)\n`,
    );
    let exitCode: number = ExitCode.success;
    let example: { repository: string; runId: string } | undefined;
    if (flags.run !== undefined) {
      const { run, notes } = await resolveRunSource(resolve(flags.run), {
        commit: 'HEAD',
        branch: flags.branch,
        snapshotDirectory: join(dataDirectory, 'snapshots'),
      });
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      await platform.runs.registerRepository(run.repository, run.cloneUrl);
      const token = await platform.issuer.sign({
        kind: PrincipalKind.githubActions,
        repository: run.repository,
        audience: auth.githubActions.audience,
        ttlSeconds: 3600,
      });
      const finished = await followRun({
        apiUrl: platform.url,
        token,
        request: {
          repository: run.repository,
          commit_sha: run.commit,
          branch: run.branch,
          trigger_type: 'manual',
        },
        write: (text) => process.stdout.write(text),
        stopped,
      });
      exitCode = finished.status === 'success' ? ExitCode.success : ExitCode.failure;
      example = { repository: run.repository, runId: finished.id };
    }
    if (flags.once === true) return exitCode;
    printHowToCall(platform.url, example);
    await stopped;
    return exitCode;
  } finally {
    await platform.close();
  }
}

function printHowToCall(
  url: string,
  example: { repository: string; runId: string } | undefined,
): void {
  const repository = example?.repository ?? 'OWNER/NAME';
  const lines = [
    '',
    'Serving until Ctrl-C. To call the API from another terminal:',
    `  TOKEN=$(npm run --silent forge -- token --repository ${repository})`,
    example === undefined
      ? `  curl -s -H "Authorization: Bearer $TOKEN" "${url}/v1/runs?repository=${repository}"`
      : `  curl -s -H "Authorization: Bearer $TOKEN" ${url}/v1/runs/${example.runId}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return port;
}
