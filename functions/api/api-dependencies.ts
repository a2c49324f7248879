import type { BlobStore } from '../../core/ports/blob-store.js';
import type { Authenticator } from '../../core/ports/authenticator.js';
import type { JobStore } from '../../core/ports/job-store.js';
import type { RunRepository } from '../../core/ports/run-repository.js';
import type { StatusEventSink } from '../../core/ports/status-event-sink.js';
import type { WorkflowEngine } from '../../core/ports/workflow-engine.js';

/** The small logger the API writes through (`fieldsLogger` over Powertools' Logger). */
export interface ApiLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the API's routes use, handed in so that Lambda, `serve` and tests wire their own. */
export interface ApiDependencies {
  readonly runs: RunRepository;
  readonly engine: WorkflowEngine;
  readonly jobs: Pick<JobStore, 'listByRun'>;
  readonly logs: Pick<BlobStore, 'presignGet'>;
  readonly authenticator: Authenticator;
  /** Where the status events of run creation and cancellation go (to GitHub). */
  readonly statusEvents: StatusEventSink;
  readonly logger: ApiLogger;
  /** Whether the API can serve: the database answers. `GET /readyz` calls it. */
  readonly ready: () => Promise<void>;
  /** Largest accepted request body; default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
}

/** Bodies above this are refused with 413: a run request is a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
