/**
 * A FAKE worker for the dispatcher's tests, not the product's worker runtime: it takes job
 * messages from one queue and ends their jobs through the job store the way a worker pool
 * does (claim as `running`, record the terminal status, then delete the message), so the
 * dispatcher can be tested against the real job plane without executors or git.
 */
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import type { QueueName } from '../../core/job-plane/queue-settings.js';
import { JobMessageSchema, type JobMessage } from '../../core/contracts/jobs.js';
import type { JobPlane } from '../../core/ports/job-plane.js';
import { isTerminalJobStatus } from '../../core/statuses.js';

/** How the fake worker ends a job. */
export type FakeOutcome =
  | { readonly status: 'completed'; readonly result?: unknown }
  | { readonly status: 'failed'; readonly error: string }
  /** Claims the job and holds it until its cancellation is requested, then records it cancelled. */
  | { readonly status: 'hold-until-cancelled' };

/** What the fake worker saw. */
export interface FakeWorker {
  /** Every message received, duplicates included. */
  readonly deliveries: JobMessage[];
  /** Jobs whose handler ran (claimed and executed), by job id. */
  readonly executions: string[];
  /** Stops receiving and waits for the job in hand to end. */
  stop(): Promise<void>;
}

/**
 * Starts the fake worker on `queue`. `decide` says how each job ends; a `completed` discovery
 * job's `result` is written to the results bucket at `<run>/discovery.json` and recorded as the
 * job's `result_location`.
 */
export function startFakeWorker(
  plane: Pick<JobPlane, 'queues' | 'jobs' | 'blobs'>,
  queue: QueueName,
  decide: (message: JobMessage) => FakeOutcome,
): FakeWorker {
  const deliveries: JobMessage[] = [];
  const executions: string[] = [];
  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) {
      const received = await plane.queues[queue].receive({
        waitTimeSeconds: 1,
        signal: controller.signal,
      });
      for (const delivery of received) {
        const message = JobMessageSchema.parse(JSON.parse(delivery.body));
        deliveries.push(message);
        await work(message);
        await plane.queues[queue].delete(delivery.receiptHandle);
      }
    }
  })();

  async function work(message: JobMessage): Promise<void> {
    const record = await plane.jobs.get(message.job_id);
    if (record === undefined || isTerminalJobStatus(record.status)) return;
    const claim = await plane.jobs.transition(message.job_id, 'running', { worker_id: 'fake' });
    if (claim.outcome !== 'applied') return;
    executions.push(message.job_id);
    const outcome = decide(message);
    switch (outcome.status) {
      case 'completed': {
        const key = discoveryResultKey(message.run_id);
        if (outcome.result !== undefined) {
          await plane.blobs.results.put(key, JSON.stringify(outcome.result));
        }
        await plane.jobs.updateStep(message.job_id, 'unit', { status: 'success', exit_code: 0 });
        await plane.jobs.transition(message.job_id, 'completed', {
          result_location: plane.blobs.results.locationOf(key),
        });
        return;
      }
      case 'failed':
        await plane.jobs.transition(message.job_id, 'failed', { error: outcome.error });
        return;
      case 'hold-until-cancelled':
        while (
          !controller.signal.aborted &&
          !(await plane.jobs.get(message.job_id))?.cancel_requested
        ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await plane.jobs.transition(message.job_id, 'cancelled', { error: 'cancel requested' });
        return;
    }
  }

  return {
    deliveries,
    executions,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
