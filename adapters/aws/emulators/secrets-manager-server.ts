import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running local Secrets Manager, reachable at `endpoint` on 127.0.0.1 only. */
export interface SecretsManagerServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

interface StoredSecret {
  readonly arn: string;
  value: string;
  versionId: string;
  readonly createdAt: number;
}

type Operation = (body: Record<string, unknown>) => Record<string, unknown>;

/**
 * A small Secrets Manager speaking the AWS JSON 1.1 protocol on 127.0.0.1, for tests and
 * `forge-pipeline emulators` (no emulator package exists). It keeps secrets in memory and
 * answers `CreateSecret`, `PutSecretValue`, `GetSecretValue`, `DeleteSecret` and `ListSecrets`.
 */
export async function startSecretsManagerServer(
  region: string,
  port = 0,
): Promise<SecretsManagerServer> {
  const secrets = new Map<string, StoredSecret>();
  const find = (id: unknown): StoredSecret => {
    const secret =
      secrets.get(String(id)) ?? [...secrets.values()].find((candidate) => candidate.arn === id);
    if (!secret)
      throw new ServiceError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    return secret;
  };
  const describe = (name: string, secret: StoredSecret) => ({
    ARN: secret.arn,
    Name: name,
    VersionId: secret.versionId,
  });
  const operations: Record<string, Operation> = {
    CreateSecret: ({ Name, SecretString }) => {
      const name = String(Name);
      if (secrets.has(name))
        throw new ServiceError('ResourceExistsException', `The secret ${name} already exists.`);
      const secret = {
        arn: `arn:aws:secretsmanager:${region}:000000000000:secret:${name}-${randomUUID().slice(0, 6)}`,
        value: textOf(SecretString),
        versionId: randomUUID(),
        createdAt: Date.now() / 1000,
      };
      secrets.set(name, secret);
      return describe(name, secret);
    },
    PutSecretValue: ({ SecretId, SecretString }) => {
      const secret = find(SecretId);
      secret.value = textOf(SecretString);
      secret.versionId = randomUUID();
      return describe(String(SecretId), secret);
    },
    GetSecretValue: ({ SecretId }) => {
      const secret = find(SecretId);
      return {
        ...describe(String(SecretId), secret),
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdAt,
      };
    },
    DeleteSecret: ({ SecretId }) => {
      const secret = find(SecretId);
      for (const [name, candidate] of secrets) if (candidate === secret) secrets.delete(name);
      return { ARN: secret.arn, Name: String(SecretId), DeletionDate: Date.now() / 1000 };
    },
    ListSecrets: () => ({
      SecretList: [...secrets].map(([name, secret]) => ({ ARN: secret.arn, Name: name })),
    }),
  };

  const server = createServer((request, response) => {
    void answer(request, response, operations);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  operations: Record<string, Operation>,
): Promise<void> {
  const send = (status: number, body: Record<string, unknown>) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(body));
  };
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = operations[target.replace(/^secretsmanager\./, '')];
    if (request.method !== 'POST' || !target.startsWith('secretsmanager.') || !operation) {
      throw new ServiceError(
        'UnknownOperationException',
        `unsupported operation ${target || request.method}`,
      );
    }
    const text = Buffer.concat(chunks).toString('utf8');
    send(200, operation(text ? (JSON.parse(text) as Record<string, unknown>) : {}));
  } catch (error) {
    const known = error instanceof ServiceError;
    send(known ? 400 : 500, {
      __type: known ? error.type : 'InternalServiceError',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
