import { startDynamoDbLocal, type AwsTestCredentials } from './dynamodb-local.js';
import { startFauxqsServer } from './fauxqs-server.js';
import { startSecretsManagerServer } from './secrets-manager-server.js';

/** Where the local emulators answer, and the credentials they accept. */
export interface LocalAwsEndpoints extends AwsTestCredentials {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
  readonly secretsManager: string;
}

/** The running emulators. */
export interface LocalAws {
  readonly endpoints: LocalAwsEndpoints;
  /** The SDK variables that point any process of this product at these emulators. */
  readonly environment: Readonly<Record<string, string>>;
  /** Stops every emulator; idempotent. */
  stop(): Promise<void>;
}

/** Credentials the emulators accept; DynamoDB Local wants letters and digits only. */
export const LOCAL_AWS_CREDENTIALS: AwsTestCredentials = {
  region: 'us-east-1',
  accessKeyId: 'forgelocal',
  secretAccessKey: 'forgelocal',
};

/**
 * Starts the local AWS emulators on 127.0.0.1 (free ports unless given): DynamoDB Local with
 * its streams, fauxqs for SQS and S3, and the local Secrets Manager. If one fails to start,
 * those already started are stopped before the error is thrown.
 */
export async function startLocalAws(
  ports: { dynamodb?: number; fauxqs?: number; secretsManager?: number } = {},
): Promise<LocalAws> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    await Promise.allSettled(started.splice(0).map((emulator) => emulator.stop()));
  };
  try {
    const [dynamodb, fauxqs, secretsManager] = await Promise.all([
      startDynamoDbLocal(LOCAL_AWS_CREDENTIALS, ports.dynamodb).then(track),
      startFauxqsServer(ports.fauxqs).then(track),
      startSecretsManagerServer(LOCAL_AWS_CREDENTIALS.region, ports.secretsManager).then(track),
    ]);
    const endpoints: LocalAwsEndpoints = {
      ...LOCAL_AWS_CREDENTIALS,
      dynamodb: dynamodb.endpoint,
      sqs: fauxqs.endpoint,
      s3: fauxqs.endpoint,
      secretsManager: secretsManager.endpoint,
    };
    return { endpoints, environment: sdkEnvironment(endpoints), stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }

  function track<T extends { stop(): Promise<void> }>(emulator: T): T {
    started.push(emulator);
    return emulator;
  }
}

/** `AWS_*` variables that make the SDK use the emulators (`AWS_ENDPOINT_URL_<SERVICE>`). */
export function sdkEnvironment(endpoints: LocalAwsEndpoints): Record<string, string> {
  return {
    AWS_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: endpoints.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoints.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  };
}
