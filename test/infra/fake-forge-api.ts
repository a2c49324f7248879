import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** How the server answers one endpoint. */
export interface CannedAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The token the runner's OIDC endpoint expects as bearer (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
export const REQUEST_TOKEN = 'runner-request-token';

/**
 * One HTTP server on 127.0.0.1 standing in for both ends a trigger talks to: the GitHub Actions
 * runner's OIDC token endpoint (`GET /oidc/token?...&audience=`, answering
 * `{"value": "oidc-token-for-<audience>"}` to the right bearer) and the pipeline API's
 * `POST /v1/runs` (answering what the test set). It records every request.
 */
export class FakeForgeApi {
  readonly requests: ReceivedRequest[] = [];
  #runs: CannedAnswer = { status: 201, body: { id: 'run-1' } };
  readonly #runsByToken = new Map<string, CannedAnswer>();
  #oidc: CannedAnswer | undefined;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts the server on a free port of 127.0.0.1. */
  static async start(): Promise<FakeForgeApi> {
    const server = createServer();
    const api = new FakeForgeApi(server);
    server.on('request', (request, response) => {
      void api.#answer(request).then(({ status, body, headers }) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** `ACTIONS_ID_TOKEN_REQUEST_URL` as the runner sets it (it already carries a query). */
  get oidcRequestUrl(): string {
    return `${this.url}/oidc/token?api-version=2.0`;
  }

  /** What `POST /v1/runs` answers from now on. */
  answerRuns(answer: CannedAnswer): void {
    this.#runs = answer;
  }

  /** What `POST /v1/runs` answers to requests bearing `token`, so concurrent tests can share. */
  answerRunsFor(token: string, answer: CannedAnswer): void {
    this.#runsByToken.set(token, answer);
  }

  /** Makes the OIDC endpoint answer this instead of a token. */
  failOidc(answer: CannedAnswer): void {
    this.#oidc = answer;
  }

  requestsTo(path: string, token?: string): ReceivedRequest[] {
    return this.requests.filter(
      (request) =>
        request.path === path &&
        (token === undefined || request.authorization === `Bearer ${token}`),
    );
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(request: IncomingMessage): Promise<CannedAnswer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.url);
    this.requests.push({
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    });
    if (request.method === 'GET' && url.pathname === '/oidc/token') {
      if (this.#oidc) return this.#oidc;
      if (request.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) {
        return { status: 401, body: { message: 'bad request token' } };
      }
      return { status: 200, body: { value: `oidc-token-for-${url.searchParams.get('audience')}` } };
    }
    if (request.method === 'POST' && url.pathname === '/v1/runs') {
      const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
      return this.#runsByToken.get(token) ?? this.#runs;
    }
    return {
      status: 404,
      body: { error: { code: 'not_found', message: 'no route', details: {} } },
    };
  }
}
