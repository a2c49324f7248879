import { hostname } from 'node:os';
import { z } from 'zod';
import { durationSeconds } from '../core/duration.js';
import { ConfigurationError, parseEnvironment } from './environment.js';

const list = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

/**
 * The `FORGE_` variables of a worker pool process (`forge-worker`); docs/configuration.md
 * documents each one. Flags of `forge-worker` win over them.
 */
export const WorkerEnvironmentSchema = z.object({
  /** Names this worker in job records and logs. */
  FORGE_WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Jobs one worker process runs at once. */
  FORGE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
  /** Where `/metrics`, `/healthz` and `/readyz` listen; `0.0.0.0` in a pod. */
  FORGE_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  FORGE_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** How long running jobs may finish after SIGTERM before they are handed back. */
  FORGE_SHUTDOWN_GRACE: durationSeconds.default(20),
  /**
   * Longest wait of one receive (SQS long polling, 1-20 s); a stopping worker waits for its
   * last receive to end, so this bounds how long shutdown takes when idle.
   */
  FORGE_WORKER_RECEIVE_WAIT: durationSeconds.pipe(z.number().max(20)).default(20),
  /**
   * How long a received job stays hidden from other workers without a heartbeat; the
   * pool's queue setting (DESIGN.md section 5) when unset. A worker that dies loses its jobs
   * to another worker after this long.
   */
  FORGE_WORKER_VISIBILITY_TIMEOUT: durationSeconds.optional(),
  /** Seconds a step may run when neither it nor its phase says. */
  FORGE_STEP_DEFAULT_TIMEOUT: durationSeconds.default(3600),
  /** The Earthly or EarthBuild binary; found on PATH (`earthly`, then `earth`) when unset. */
  FORGE_EARTHLY_BINARY: z.string().min(1).optional(),
  /** BuildKit runner addresses for `earthly` steps, comma-separated (`tcp://runner-1:8372,...`). */
  FORGE_BUILDKIT_HOSTS: list.default([]),
  /**
   * Secrets Manager paths of the runners' TLS material (CA certificate, client certificate,
   * client key); all three or none. Written once to private files and reused by every step.
   */
  FORGE_BUILDKIT_TLS_CA_SECRET: z.string().min(1).optional(),
  FORGE_BUILDKIT_TLS_CERT_SECRET: z.string().min(1).optional(),
  FORGE_BUILDKIT_TLS_KEY_SECRET: z.string().min(1).optional(),
});

/** A worker process's parsed configuration. */
export type WorkerEnvironment = z.infer<typeof WorkerEnvironmentSchema>;

/** Reads the worker's variables once; a bad one is a `ConfigurationError` naming it. */
export function loadWorkerEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerEnvironment {
  const parsed = parseEnvironment(WorkerEnvironmentSchema, env);
  const tls = [
    parsed.FORGE_BUILDKIT_TLS_CA_SECRET,
    parsed.FORGE_BUILDKIT_TLS_CERT_SECRET,
    parsed.FORGE_BUILDKIT_TLS_KEY_SECRET,
  ];
  if (tls.some((path) => path !== undefined) && tls.some((path) => path === undefined)) {
    throw new ConfigurationError(
      'FORGE_BUILDKIT_TLS_CA_SECRET',
      'set all three of FORGE_BUILDKIT_TLS_CA_SECRET, _CERT_SECRET and _KEY_SECRET, or none',
    );
  }
  return parsed;
}
