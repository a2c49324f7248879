import type { RunStatusEvent } from '../contracts/status-events.js';

/**
 * Where run status events go on their way to GitHub: a queue feeding the fan-out function in
 * production, the fan-out itself in the embedded mode. Publishing never waits for GitHub.
 */
export interface StatusEventSink {
  publish(events: readonly RunStatusEvent[]): Promise<void>;
}
