import type { WorkerLogger } from './runtime/worker-logger.js';

/**
 * A structured logger writing one JSON object per line to stderr (what Loki/promtail and
 * `kubectl logs` expect), with fixed fields (pool, worker id) on every line.
 */
export function jsonLineLogger(
  fields: Record<string, unknown>,
  write: (line: string) => void = (line) => process.stderr.write(line),
): WorkerLogger {
  const log = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields, ...extra })}\n`,
    );
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
