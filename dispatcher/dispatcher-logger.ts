/**
 * The small structured logger a dispatch writes to. Fields carry the job's context (`jobId`,
 * `runId`, `type`, `status`) so the pod's log in Argo correlates with the job it waited for.
 */
export interface DispatcherLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything, for tests. */
export const silentDispatcherLogger: DispatcherLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * A logger writing one JSON object per line (`{"time","level","message",...fields}`) to
 * `write`, by default the process's stderr: stdout stays free, and Argo shows the pod's log.
 */
export function jsonLinesLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  now: () => Date = () => new Date(),
): DispatcherLogger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      write(`${JSON.stringify({ time: now().toISOString(), level, message, ...fields })}\n`);
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
