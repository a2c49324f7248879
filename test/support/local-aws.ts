import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { AwsClientConfig } from '../../adapters/aws/aws-client-config.js';
import type { LocalAwsEndpoints } from '../../adapters/aws/emulators/local-aws.js';

/** The endpoints of the emulators the global setup started. */
export function localAws(): LocalAwsEndpoints {
  return inject('localAws');
}

/** Client settings for one emulated service. */
export function localAwsClientConfig(
  service: 'dynamodb' | 'sqs' | 's3' | 'secretsManager',
): AwsClientConfig {
  const endpoints = localAws();
  return {
    region: endpoints.region,
    endpoint: endpoints[service],
    credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
  };
}

/** A resource name no other test uses (queues, tables, buckets: lower case, digits, dashes). */
export function uniqueResourceName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
