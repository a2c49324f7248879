import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, errorBody } from '../core/contracts/api.js';
import { ForgeError, errorMessage } from '../core/errors.js';
import { DEFAULT_MAX_BODY_BYTES, type ApiDependencies } from '../functions/api/api-dependencies.js';
import type { ApiRequest } from '../functions/api/api-request.js';
import { handleApiRequest } from '../functions/api/create-api-handler.js';

/** Options of {@link ApiHttpServer.start}. */
export interface ApiHttpServerOptions {
  readonly deps: ApiDependencies;
  /** Default 127.0.0.1: the embedded platform is for this machine. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** The local server could not start (the port is taken, say). */
export class ApiHttpServerError extends ForgeError {}

/**
 * The API's handlers behind Node's HTTP server, for `forge-pipeline serve` and tests: each
 * request becomes the same `ApiRequest` an API Gateway event becomes, so routing,
 * authentication and errors are the Lambda's own. Bodies are read up to the API's limit (a
 * larger one is answered 413 without reading the rest).
 */
export class ApiHttpServer {
  readonly #server: Server;
  /** Requests being answered: `close()` waits for them, even those whose client went away. */
  readonly #answering: Set<Promise<void>>;
  readonly url: string;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, url: string, answering: Set<Promise<void>>) {
    this.#server = server;
    this.url = url;
    this.#answering = answering;
  }

  static async start(options: ApiHttpServerOptions): Promise<ApiHttpServer> {
    const host = options.host ?? '127.0.0.1';
    const { deps } = options;
    const answering = new Set<Promise<void>>();
    const server = createServer((request, response) => {
      const answered = answer(request, response, deps);
      answering.add(answered);
      void answered.finally(() => answering.delete(answered));
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new ApiHttpServerError(
            `cannot listen on ${host}:${options.port}: ${errorMessage(error)}`,
          ),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new ApiHttpServer(server, `http://${host}:${port}`, answering);
  }

  /**
   * Stops accepting connections, ends idle ones and waits for the requests in flight to be
   * answered (a client that hung up does not end its request's work), so that what the routes
   * use can be closed next; idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await closed;
      await Promise.allSettled([...this.#answering]);
    })();
    return this.#closing;
  }
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  deps: ApiDependencies,
): Promise<void> {
  try {
    const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const body = await readBody(request, limit);
    if (body === TOO_LARGE) {
      send(
        response,
        413,
        errorBody(ErrorCode.payloadTooLarge, `the body exceeds ${limit} bytes`, {
          limit_bytes: limit,
        }),
      );
      request.destroy();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const apiRequest: ApiRequest = {
      method: (request.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      headers,
      query: Object.fromEntries(url.searchParams),
      body,
    };
    const result = await handleApiRequest(apiRequest, deps);
    writeJson(response, result.statusCode ?? 200, result.body ?? '');
  } catch (error) {
    deps.logger.error('local API server failed to answer', { error: errorMessage(error) });
    if (!response.headersSent) {
      send(response, 500, errorBody(ErrorCode.internal, 'the API failed to handle the request'));
    } else {
      response.destroy();
    }
  }
}

const TOO_LARGE = Symbol('too large');

/** The body as text, or {@link TOO_LARGE} as soon as it passes `limit` bytes. */
async function readBody(
  request: IncomingMessage,
  limit: number,
): Promise<string | undefined | typeof TOO_LARGE> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return TOO_LARGE;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return TOO_LARGE;
    chunks.push(buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  writeJson(response, status, JSON.stringify(body), { connection: 'close' });
}

/**
 * Answers `body` with its length declared: `writeHead` builds the header at once, and without
 * a length Node would send the body chunked, as three socket writes instead of one.
 */
function writeJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
