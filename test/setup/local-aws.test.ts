import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GetSecretValueCommand,
  CreateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { localAws, localAwsClientConfig, uniqueResourceName } from '../support/local-aws.js';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';

describe('local AWS emulators', () => {
  it('answer on 127.0.0.1 only', () => {
    const endpoints = localAws();

    for (const endpoint of [
      endpoints.dynamodb,
      endpoints.sqs,
      endpoints.s3,
      endpoints.secretsManager,
    ]) {
      expect(new URL(endpoint).hostname).toBe('127.0.0.1');
    }
  });

  it('speak the DynamoDB, SQS and Secrets Manager protocols', async () => {
    const dynamodb = new DynamoDBClient(sdkClientConfig(localAwsClientConfig('dynamodb')));
    const sqs = new SQSClient(sdkClientConfig(localAwsClientConfig('sqs')));
    const secrets = new SecretsManagerClient(
      sdkClientConfig(localAwsClientConfig('secretsManager')),
    );
    const name = uniqueResourceName('secret');

    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 's3cr3t' }));
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
    const tables = await dynamodb.send(new ListTablesCommand({}));
    const queues = await sqs.send(new ListQueuesCommand({}));

    expect(secret.SecretString).toBe('s3cr3t');
    expect(tables.TableNames).toBeInstanceOf(Array);
    expect(queues.$metadata.httpStatusCode).toBe(200);
    await expect(
      secrets.send(new GetSecretValueCommand({ SecretId: 'missing' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
