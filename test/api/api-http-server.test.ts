import { describe, expect, it } from 'vitest';
import { ApiHttpServer } from '../../platform/api-http-server.js';
import { useApiStack } from './api-stack.js';

const stack = useApiStack();

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('ApiHttpServer.close', () => {
  it('waits for a request in flight even after its client hung up', async () => {
    // Arrange: a readiness check that answers only when the test says so.
    const asked = deferred();
    const answer = deferred();
    const server = await ApiHttpServer.start({
      port: 0,
      deps: {
        ...stack.current.deps,
        ready: () => {
          asked.resolve();
          return answer.promise;
        },
      },
    });
    try {
      const client = new AbortController();
      const request = fetch(`${server.url}/readyz`, { signal: client.signal }).then(
        () => 'answered',
        () => 'hung up',
      );
      await asked.promise;
      client.abort();
      let closed = false;

      // Act
      const closing = server.close().then(() => {
        closed = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closedBeforeTheAnswer = closed;
      answer.resolve();
      await closing;

      // Assert
      expect(await request).toBe('hung up');
      expect(closedBeforeTheAnswer).toBe(false);
      expect(closed).toBe(true);
    } finally {
      answer.resolve();
      await server.close();
    }
  });
});

describe('ApiHttpServer answers', () => {
  it.each([
    ['an answer of a route', 'GET', '/healthz', undefined, 200],
    ['an answer of the server itself', 'POST', '/v1/runs', 'x'.repeat(64), 413],
  ])(
    'declare their length instead of being sent chunked: %s',
    async (_, method, path, body, status) => {
      // Arrange: a body limit the second request passes.
      const server = await ApiHttpServer.start({
        port: 0,
        deps: { ...stack.current.deps, maxBodyBytes: 16 },
      });
      try {
        // Act
        const response = await fetch(`${server.url}${path}`, { method, body });
        const text = await response.text();

        // Assert
        expect(response.status).toBe(status);
        expect(response.headers.get('transfer-encoding')).toBeNull();
        expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
        expect(JSON.parse(text)).toBeTypeOf('object');
      } finally {
        await server.close();
      }
    },
  );
});
