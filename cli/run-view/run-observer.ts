import type { JobRecord } from '../../core/contracts/jobs.js';
import type { EngineEvent } from '../../engine/run-outcome.js';

/**
 * What shows a run's progress: the engine's events (plan, groups, ends) and, while jobs run,
 * their records as the job store has them (running, per-step progress).
 */
export interface RunObserver {
  onEvent(event: EngineEvent): void;
  onRecords(records: readonly JobRecord[]): void;
  /** Finishes the display once the run has ended. */
  close(): Promise<void>;
}
