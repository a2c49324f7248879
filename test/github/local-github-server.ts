import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown> | undefined;
  readonly authorization: string | undefined;
  /** Milliseconds since the epoch when it arrived. */
  readonly at: number;
}

/** An answer the server gives instead of the normal one, once. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: unknown;
}

interface StoredComment {
  id: number;
  body: string;
}

/** The recorded answer of `POST /repos/{owner}/{repo}/statuses/{sha}` from `@octokit/fixtures`. */
const statusFixture = (
  JSON.parse(
    readFileSync(
      new URL(
        '../../node_modules/@octokit/fixtures/scenarios/api.github.com/create-status/normalized-fixture.json',
        import.meta.url,
      ),
      'utf8',
    ),
  ) as { response: Record<string, unknown> }[]
)[0]?.response as Record<string, unknown>;

/**
 * A server on 127.0.0.1 that answers the few GitHub REST calls the fan-out makes, as GitHub
 * does: commit statuses (with the recorded answer from `@octokit/fixtures`), and issue comments
 * kept in memory per issue (listed 100 to a page, created, edited, 404 for an unknown id). Tests
 * script failures with {@link LocalGitHub.answerNext}, slow answers with
 * {@link LocalGitHub.delayNext}, and read what arrived in `requests`.
 */
export class LocalGitHub {
  readonly requests: RecordedRequest[] = [];
  readonly comments = new Map<string, StoredComment[]>();
  readonly #scripted: ScriptedAnswer[] = [];
  readonly #delays: number[] = [];
  readonly #server = createServer((request, response) => void this.#handle(request, response));
  #nextCommentId = 1000;

  /** Starts a server on 127.0.0.1 that is stopped when the current test finishes. */
  static async start(): Promise<LocalGitHub> {
    const github = new LocalGitHub();
    await new Promise<void>((resolve) => github.#server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => github.close());
    return github;
  }

  /** Where an Octokit client should send requests. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The next requests (one each) get these answers instead of the normal ones. */
  answerNext(...answers: ScriptedAnswer[]): void {
    this.#scripted.push(...answers);
  }

  /** The next requests (one each) are answered only after these many milliseconds. */
  delayNext(...delaysMs: number[]): void {
    this.#delays.push(...delaysMs);
  }

  /** Adds comments to an issue as if someone else had posted them. */
  seedComments(repository: string, issue: number, bodies: readonly string[]): void {
    const list = this.#commentsOf(`${repository}#${issue}`);
    for (const body of bodies) list.push({ id: this.#nextCommentId++, body });
  }

  /** The requests that set commit statuses, in order. */
  statusRequests(): RecordedRequest[] {
    return this.requests.filter((request) => /\/statuses\//.test(request.path));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.url);
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      authorization: request.headers.authorization,
      at: Date.now(),
    });
    const delayMs = this.#delays.shift();
    if (delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const scripted = this.#scripted.shift();
    if (scripted) {
      send(response, scripted.status, scripted.body, scripted.headers);
      return;
    }
    const body = this.requests.at(-1)?.body ?? {};
    const status = /^\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]+)$/.exec(url.pathname);
    const issueComments = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    const comment = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (request.method === 'POST' && status) {
      send(response, 201, { ...statusFixture, ...body, id: this.requests.length });
    } else if (request.method === 'GET' && issueComments) {
      const list = this.#commentsOf(`${issueComments[1]}#${issueComments[2]}`);
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      send(response, 200, list.slice((page - 1) * perPage, page * perPage));
    } else if (request.method === 'POST' && issueComments) {
      const created = { id: this.#nextCommentId++, body: String(body['body']) };
      this.#commentsOf(`${issueComments[1]}#${issueComments[2]}`).push(created);
      send(response, 201, created);
    } else if (request.method === 'PATCH' && comment) {
      const found = [...this.comments.values()].flat().find((c) => c.id === Number(comment[2]));
      if (!found) {
        send(response, 404, {
          message: 'Not Found',
          documentation_url: 'https://docs.github.com/rest',
        });
        return;
      }
      found.body = String(body['body']);
      send(response, 200, found);
    } else {
      send(response, 404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest',
      });
    }
  }

  #commentsOf(key: string): StoredComment[] {
    let list = this.comments.get(key);
    if (!list) this.comments.set(key, (list = []));
    return list;
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-resource': 'core',
    ...headers,
  });
  response.end(text);
}
