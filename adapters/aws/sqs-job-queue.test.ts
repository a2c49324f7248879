import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll } from 'vitest';
import { describeJobQueueContract } from '../../test/contracts/job-queue.contract.js';
import { localAwsClientConfig, uniqueResourceName } from '../../test/support/local-aws.js';
import { sdkClientConfig } from './aws-client-config.js';
import { createJobQueue } from './job-plane-resources.js';
import { SqsJobQueue } from './sqs-job-queue.js';

const sqs = new SQSClient(sdkClientConfig(localAwsClientConfig('sqs')));

afterAll(() => {
  sqs.destroy();
});

describeJobQueueContract('SqsJobQueue on fauxqs', async (settings) => {
  const name = uniqueResourceName('jobs');
  const { url, deadLetterUrl } = await createJobQueue(sqs, name, settings);
  return {
    queue: new SqsJobQueue({ client: sqs, queueUrl: url, name }),
    deadLetters: new SqsJobQueue({ client: sqs, queueUrl: deadLetterUrl, name: `${name}-dlq` }),
    cleanup: async () => {
      // Deleting a queue also ends the long polls a test abandoned on it.
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: deadLetterUrl }));
    },
  };
});
