import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import { silentWorkerLogger, type WorkerLogger } from '../runtime/worker-logger.js';
import { HealthServerListenError, HealthServerOptionsError } from './health-server-errors.js';

/** What the probes ask of a long-running component; `JobWorker` fits. */
export interface HealthProbe {
  /** The process runs its loop: false only when it is stuck or stopped (restart it). */
  readonly live: boolean;
  /** It takes work: running, with its backends answering (send it traffic, keep it in the pool). */
  readonly ready: boolean;
}

/** Where `/metrics` comes from; `WorkerMetrics` and a prom-client `Registry` fit. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Options of {@link HealthServer.start}. */
export interface HealthServerOptions {
  /**
   * The address to bind; default `127.0.0.1`, so nothing outside the machine reaches it. In a
   * Kubernetes pod the kubelet's probes and Prometheus connect to the pod IP, so a worker
   * deployment sets `0.0.0.0` (or `::`) there.
   */
  readonly host?: string;
  /** The port; 0 picks a free one (tests). */
  readonly port: number;
  /** Every component of the process; the process is live (ready) when all of them are. */
  readonly probes: readonly HealthProbe[];
  readonly metrics: MetricsSource;
  readonly logger?: WorkerLogger;
}

const optionsSchema = z.object({
  host: z.string().trim().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535),
  probes: z.array(z.unknown()).min(1, 'needs at least one probe'),
});

/**
 * The worker process's HTTP endpoints: `/metrics` (Prometheus text), `/healthz` (200 while
 * every component runs its loop, for the liveness probe) and `/readyz` (200 only while every
 * component is running with its backends answering, 503 from the moment `close()` starts on
 * a worker, for the readiness probe). GET and HEAD only. Start it with
 * {@link HealthServer.start}; {@link HealthServer.close} is idempotent.
 */
export class HealthServer {
  readonly #server: Server;
  readonly #address: AddressInfo;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, address: AddressInfo) {
    this.#server = server;
    this.#address = address;
  }

  /** Validates the options and listens; throws {@link HealthServerListenError} if it cannot. */
  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HealthServerOptionsError(
        `invalid health server option ${issue?.path.join('.') || 'options'}: ${issue?.message}`,
      );
    }
    const { host, port } = parsed.data;
    const routes = new HealthRoutes(options.probes, options.metrics, options.logger);
    const server = createServer((request, response) => routes.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new HealthServerListenError(host, port, error)));
      server.listen({ host, port }, resolve);
    });
    return new HealthServer(server, server.address() as AddressInfo);
  }

  /** The bound port (the real one when started with 0). */
  get port(): number {
    return this.#address.port;
  }

  /** The base URL, such as `http://127.0.0.1:9464`. */
  get url(): string {
    const { address, family, port } = this.#address;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  /** Stops listening and drops open connections; every call returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}

/** Answers the three paths. */
class HealthRoutes {
  readonly #probes: readonly HealthProbe[];
  readonly #metrics: MetricsSource;
  readonly #logger: WorkerLogger;

  constructor(probes: readonly HealthProbe[], metrics: MetricsSource, logger?: WorkerLogger) {
    this.#probes = probes;
    this.#metrics = metrics;
    this.#logger = logger ?? silentWorkerLogger;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, request, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/healthz':
        return this.#probe(request, response, (probe) => probe.live, 'live', 'not live');
      case '/readyz':
        return this.#probe(request, response, (probe) => probe.ready, 'ready', 'not ready');
      case '/metrics':
        return void this.#serveMetrics(request, response);
      default:
        return send(response, request, 404, 'not found\n');
    }
  }

  #probe(
    request: IncomingMessage,
    response: ServerResponse,
    passes: (probe: HealthProbe) => boolean,
    good: string,
    bad: string,
  ): void {
    const ok = this.#probes.every(passes);
    send(response, request, ok ? 200 : 503, `${ok ? good : bad}\n`);
  }

  async #serveMetrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const body = await this.#metrics.metrics();
      send(response, request, 200, body, { 'content-type': this.#metrics.contentType });
    } catch (error) {
      this.#logger.error('could not collect metrics', { error: errorMessage(error) });
      send(response, request, 500, 'could not collect metrics\n');
    }
  }
}

function send(
  response: ServerResponse,
  request: IncomingMessage,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
    'content-length': Buffer.byteLength(body),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
