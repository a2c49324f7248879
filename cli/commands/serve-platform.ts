import { Logger } from '@aws-lambda-powertools/logger';
import { join, resolve } from 'node:path';
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

/** The flags of `forge-pipeline serve`. */
export interface ServeFlags {
  port?: number;
  run?: string;
  branch?: string;
  once?: boolean;
}

/**
 * What `forge-pipeline serve` does: starts the platform on this machine on 127.0.0.1, runs the
 * repository of `--run` through the API when given, and serves until Ctrl-C (or returns after
 * that run with `--once`). Returns the exit code: 1 when the run of `--run` did not succeed.
 */
export async function servePlatform(flags: ServeFlags): Promise<number> {
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
