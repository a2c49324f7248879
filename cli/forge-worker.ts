#!/usr/bin/env node
/**
 * `forge-worker discovery|task`: a worker pool process. It takes jobs from its queue until
 * SIGTERM or Ctrl-C, then lets running jobs finish within the grace period, hands the rest
 * back and exits 0. It talks to AWS or to `forge-pipeline emulators` (`FORGE_MODE=aws`);
 * in the embedded mode the workers run inside `forge-pipeline` itself.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createAwsJobPlane } from '../adapters/job-plane/aws-job-plane.js';
import { loadForgeEnvironment } from '../config/forge-environment.js';
import { loadAwsJobPlaneConfig } from '../config/job-plane-environment.js';
import { loadWorkerEnvironment } from '../config/worker-environment.js';
import { jsonLineLogger } from '../workers/json-line-logger.js';
import { startWorkerPool, WorkerPoolName } from '../workers/worker-pool.js';
import { UsageError, runCli } from './run-cli.js';

interface WorkerFlags {
  concurrency?: number;
  port?: number;
  host?: string;
}

const program = new Command('forge-worker')
  .description('run a worker pool that takes jobs from its queue (FORGE_MODE=aws)')
  .addArgument(
    new Command()
      .createArgument('<pool>', 'discovery | task')
      .choices(Object.values(WorkerPoolName)),
  )
  .addOption(
    new Option('--concurrency <n>', 'jobs at once (env FORGE_WORKER_CONCURRENCY)').argParser(
      positive,
    ),
  )
  .addOption(
    new Option('--port <n>', 'health and metrics port (env FORGE_HEALTH_PORT)').argParser(port),
  )
  .option('--host <address>', 'health and metrics address (env FORGE_HEALTH_HOST)')
  .action(async (pool: WorkerPoolName, flags: WorkerFlags) => {
    const forge = loadForgeEnvironment();
    if (forge.FORGE_MODE !== 'aws') {
      throw new UsageError(
        'forge-worker needs FORGE_MODE=aws: point it at AWS, or at `forge-pipeline emulators` on this machine (in the embedded mode workers run inside forge-pipeline)',
      );
    }
    const environment = loadWorkerEnvironment();
    const worker = {
      ...environment,
      FORGE_WORKER_CONCURRENCY: flags.concurrency ?? environment.FORGE_WORKER_CONCURRENCY,
      FORGE_HEALTH_PORT: flags.port ?? environment.FORGE_HEALTH_PORT,
      FORGE_HEALTH_HOST: flags.host ?? environment.FORGE_HEALTH_HOST,
    };
    const plane = await createAwsJobPlane(loadAwsJobPlaneConfig());
    const logger = jsonLineLogger({ pool, worker: worker.FORGE_WORKER_ID });
    try {
      const running = await startWorkerPool({ pool, plane, forge, worker, logger });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info('stopping', { signal });
          resolve();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      await running.close();
      logger.info('stopped');
    } finally {
      await plane.close();
    }
  });

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new InvalidArgumentError('must be a whole number above 0');
  return number;
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535)
    throw new InvalidArgumentError('must be a port (0-65535)');
  return number;
}

await runCli(program);
