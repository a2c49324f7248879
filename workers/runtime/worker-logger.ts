/**
 * The small structured logger the worker runtime writes to; any logger (Powertools, pino, a
 * console wrapper) fits. Fields carry the job's context (`jobId`, `runId`, `type`, `messageId`,
 * `workerId`) so worker logs correlate with the job they concern.
 */
export interface WorkerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything, for tests and callers that log elsewhere. */
export const silentWorkerLogger: WorkerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
