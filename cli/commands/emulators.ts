import { Command, InvalidArgumentError } from 'commander';

interface EmulatorFlags {
  prefix: string;
  dynamodbPort?: number;
  fauxqsPort?: number;
  secretsPort?: number;
}

/**
 * `forge-pipeline emulators`: starts the local AWS emulators on 127.0.0.1, creates the job
 * plane on them, prints the variables that point any process of this product at them as
 * `export NAME=value` lines on stdout (progress goes to stderr, so
 * `forge-pipeline emulators > local.env` leaves a file other shells can `source`), and stops
 * everything on Ctrl-C or SIGTERM.
 */
export function emulatorsCommand(): Command {
  return new Command('emulators')
    .description('run local AWS emulators with the job plane created, until Ctrl-C')
    .option('--prefix <name>', 'prefix of every queue, table and bucket', 'forge-local')
    .option('--dynamodb-port <port>', 'DynamoDB Local port (default: a free one)', parsePort)
    .option('--fauxqs-port <port>', 'SQS and S3 port (default: a free one)', parsePort)
    .option('--secrets-port <port>', 'Secrets Manager port (default: a free one)', parsePort)
    .action(async (flags: EmulatorFlags) => {
      process.stderr.write('starting emulators (DynamoDB Local, fauxqs, Secrets Manager)...\n');
      // The emulators are development tools (devDependencies): loaded only by this command.
      const { startLocalAws } = await import('../../adapters/aws/emulators/local-aws.js');
      const { provisionLocalJobPlane } =
        await import('../../adapters/aws/emulators/provision-local-job-plane.js');
      const localAws = await startLocalAws({
        dynamodb: flags.dynamodbPort,
        fauxqs: flags.fauxqsPort,
        secretsManager: flags.secretsPort,
      });
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= (async () => {
          process.stderr.write('stopping emulators...\n');
          await localAws.stop();
          process.stderr.write('emulators stopped\n');
        })();
        return stopping;
      };
      try {
        const jobPlane = await provisionLocalJobPlane(localAws.endpoints, flags.prefix);
        const variables = { ...localAws.environment, ...jobPlane.environment };
        for (const [name, value] of Object.entries(variables)) {
          process.stdout.write(`export ${name}=${value}\n`);
        }
        process.stderr.write('emulators ready on 127.0.0.1; Ctrl-C stops them\n');
      } catch (error) {
        await stop();
        throw error;
      }
      await new Promise<void>((resolve) => {
        const onSignal = () => void stop().then(resolve);
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('must be a port number (1-65535)');
  }
  return port;
}
