/**
 * Job queue figures: how long a message takes from `send` to a consumer already waiting in a
 * long poll, and how many messages four consumers receive and delete per second, for the
 * embedded queue and for SQS on fauxqs (started here, on 127.0.0.1).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sdkClientConfig } from '../adapters/aws/aws-client-config.js';
import { startFauxqsServer } from '../adapters/aws/emulators/fauxqs-server.js';
import { LOCAL_AWS_CREDENTIALS } from '../adapters/aws/emulators/local-aws.js';
import { createJobQueue } from '../adapters/aws/job-plane-resources.js';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.js';
import { EmbeddedJobQueue } from '../adapters/embedded/embedded-job-queue.js';
import { QUEUE_SETTINGS } from '../core/job-plane/queue-settings.js';
import type { JobQueue } from '../core/ports/job-queue.js';
import { percentile, type BenchContext, type BenchSuite } from './harness.js';

const CONSUMERS = 4;
const WARMUP_ROUNDS = 20;

/** What each backend is measured with, and the latency target it must meet. */
interface Plan {
  readonly label: string;
  readonly latencySamples: number;
  /** How long a receive is given to reach the queue before the send (a network hop). */
  readonly settleMs: number;
  readonly throughputMessages: number;
  readonly p50TargetMs: number;
}

const EMBEDDED: Plan = {
  label: 'embedded',
  latencySamples: 2000,
  settleMs: 0,
  throughputMessages: 20_000,
  p50TargetMs: 2,
};

const FAUXQS: Plan = {
  label: 'SQS on fauxqs',
  latencySamples: 200,
  settleMs: 20,
  throughputMessages: 2000,
  p50TargetMs: 30,
};

/** Milliseconds from the start of each `send` until a consumer already waiting has it. */
async function sendToReceiveLatency(queue: JobQueue, plan: Plan): Promise<number[]> {
  const durations: number[] = [];
  for (let round = 0; round < WARMUP_ROUNDS + plan.latencySamples; round += 1) {
    const receiving = queue
      .receive({ waitTimeSeconds: 20 })
      .then((messages) => ({ messages, at: performance.now() }));
    if (plan.settleMs > 0) await delay(plan.settleMs);
    const started = performance.now();
    await queue.send(`{"round":${round}}`, { deduplicationKey: `latency-${round}` });
    const { messages, at } = await receiving;
    const [message] = messages;
    if (message === undefined) throw new Error(`round ${round}: the waiting consumer got nothing`);
    if (round >= WARMUP_ROUNDS) durations.push(at - started);
    await queue.delete(message.receiptHandle);
  }
  return durations;
}

/** Messages per second that four consumers receive (`maxMessages` at a time) and delete. */
async function drainRate(queue: JobQueue, total: number, maxMessages: number): Promise<number> {
  for (let sent = 0; sent < total; sent += 50) {
    const chunk = Array.from({ length: Math.min(50, total - sent) }, (_, index) => sent + index);
    await Promise.all(
      chunk.map((job) =>
        queue.send(`{"job":${job}}`, { deduplicationKey: `${maxMessages}-${job}` }),
      ),
    );
  }
  let consumed = 0;
  let finishedAt = Number.NaN;
  const started = performance.now();
  const consume = async (): Promise<void> => {
    while (consumed < total) {
      const messages = await queue.receive({ maxMessages, waitTimeSeconds: 1 });
      if (messages.length === 0) return;
      await Promise.all(messages.map((message) => queue.delete(message.receiptHandle)));
      consumed += messages.length;
      if (consumed >= total && Number.isNaN(finishedAt)) finishedAt = performance.now();
    }
  };
  await Promise.all(Array.from({ length: CONSUMERS }, consume));
  if (consumed < total) throw new Error(`only ${consumed} of ${total} messages were consumed`);
  return total / ((finishedAt - started) / 1000);
}

async function measure(context: BenchContext, plan: Plan, makeQueue: () => Promise<JobQueue>) {
  const latencies = await sendToReceiveLatency(await makeQueue(), plan);
  const p50 = percentile(latencies, 50);
  context.report({
    label: `${plan.label}: send to waiting receive, p50 (${plan.latencySamples} messages)`,
    value: p50,
    unit: 'ms',
    target: `<= ${plan.p50TargetMs} ms`,
    met: p50 <= plan.p50TargetMs,
  });
  context.report({
    label: `${plan.label}: send to waiting receive, p95`,
    value: percentile(latencies, 95),
    unit: 'ms',
  });
  for (const maxMessages of [1, 10]) {
    const rate = await drainRate(await makeQueue(), plan.throughputMessages, maxMessages);
    context.report({
      label: `${plan.label}: ${CONSUMERS} consumers, receive ${maxMessages} + delete (${plan.throughputMessages} messages)`,
      value: rate,
      unit: 'ops/s',
    });
  }
}

const suite: BenchSuite = {
  name: 'job-queue',
  async run(context) {
    const embedded: EmbeddedJobQueue[] = [];
    try {
      await measure(context, EMBEDDED, () => {
        const queue = new EmbeddedJobQueue({ name: 'bench', settings: QUEUE_SETTINGS.tasks });
        embedded.push(queue);
        return Promise.resolve(queue);
      });
    } finally {
      await Promise.all(embedded.map((queue) => queue.close()));
    }

    const fauxqs = await startFauxqsServer();
    const client = new SQSClient(
      sdkClientConfig({
        region: LOCAL_AWS_CREDENTIALS.region,
        endpoint: fauxqs.endpoint,
        credentials: LOCAL_AWS_CREDENTIALS,
      }),
    );
    context.note(`fauxqs at ${fauxqs.endpoint}`);
    try {
      await measure(context, FAUXQS, async () => {
        const name = `bench-${randomUUID().slice(0, 8)}`;
        const { url } = await createJobQueue(client, name, QUEUE_SETTINGS.tasks);
        return new SqsJobQueue({ client, queueUrl: url, name });
      });
    } finally {
      client.destroy();
      await fauxqs.stop();
    }
  },
};

export default suite;
