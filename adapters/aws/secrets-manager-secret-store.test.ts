import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll } from 'vitest';
import { describeSecretStoreContract } from '../../test/contracts/secret-store.contract.js';
import { localAwsClientConfig } from '../../test/support/local-aws.js';
import { sdkClientConfig } from './aws-client-config.js';
import { SecretsManagerSecretStore } from './secrets-manager-secret-store.js';

const client = new SecretsManagerClient(sdkClientConfig(localAwsClientConfig('secretsManager')));

afterAll(() => {
  client.destroy();
});

describeSecretStoreContract('SecretsManagerSecretStore', () =>
  Promise.resolve({
    store: new SecretsManagerSecretStore({ client }),
    async putSecret(path: string, value: string) {
      try {
        await client.send(new CreateSecretCommand({ Name: path, SecretString: value }));
      } catch (error) {
        if ((error as Error).name !== 'ResourceExistsException') throw error;
        await client.send(new PutSecretValueCommand({ SecretId: path, SecretString: value }));
      }
    },
  }),
);
