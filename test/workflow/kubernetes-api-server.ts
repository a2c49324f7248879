/**
 * A stand-in for the Kubernetes API server on 127.0.0.1, for the Argo engine's tests: it records
 * every request (method, path, headers, parsed body) and answers with what the test scripts,
 * shaped as the API server answers (JSON objects, `Status` objects for errors).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** A request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** What the server answers. */
export interface ScriptedResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A running stand-in. */
export interface KubernetesApiServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answers the next requests, in order; later requests get the last answer. */
  answer(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/** A Kubernetes `Status` error body, as the API server sends it. */
export function statusBody(code: number, reason: string, message: string): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startKubernetesApiServer(): Promise<KubernetesApiServer> {
  const requests: RecordedRequest[] = [];
  let script: ScriptedResponse[] = [
    { status: 500, body: statusBody(500, 'InternalError', 'unscripted') },
  ];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      });
      const next = script.length > 1 ? (script.shift() as ScriptedResponse) : script[0];
      response.writeHead(next?.status ?? 500, { 'content-type': 'application/json' });
      response.end(JSON.stringify(next?.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (...responses) => {
      script = responses;
    },
    close: () => {
      closing ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** A kubeconfig with one context per server, each with its own bearer token. */
export function kubeconfigYaml(
  contexts: readonly { name: string; server: string; token: string }[],
  current: string,
): string {
  const lines = ['apiVersion: v1', 'kind: Config', `current-context: ${current}`, 'clusters:'];
  for (const { name, server } of contexts) {
    lines.push(`- name: ${name}`, '  cluster:', `    server: ${server}`);
    // Plain HTTP on loopback; the client allows it only with verification switched off.
    lines.push('    insecure-skip-tls-verify: true');
  }
  lines.push('users:');
  for (const { name, token } of contexts)
    lines.push(`- name: ${name}`, '  user:', `    token: ${token}`);
  lines.push('contexts:');
  for (const { name } of contexts) {
    lines.push(`- name: ${name}`, '  context:', `    cluster: ${name}`, `    user: ${name}`);
  }
  return `${lines.join('\n')}\n`;
}
