import { Command, InvalidArgumentError } from 'commander';
import type { ServeFlags } from './serve-platform.js';

/**
 * `forge-pipeline serve`: the platform on this machine (API, Postgres, local issuer, engine,
 * reconciler and, in the embedded mode, the worker pools), on 127.0.0.1. With `--run PATH`
 * it registers that repository, starts a run of it through `POST /v1/runs` with a token of
 * the local issuer, follows it, and prints the finished `GET /v1/runs/{id}`; then it keeps
 * serving (printing how to call it) unless `--once` asks it to stop there. The platform is
 * loaded only when the command runs.
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
      const { servePlatform } = await import('./serve-platform.js');
      process.exitCode = await servePlatform(flags);
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number from 0 to 65535');
  }
  return port;
}
