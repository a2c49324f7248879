import type { AddressInfo } from 'node:net';
import { buildApp } from 'fauxqs';

/** A running fauxqs (SQS and S3 emulator), reachable at `endpoint` on 127.0.0.1 only. */
export interface FauxqsServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process. Its own `startFauxqs` listens on every interface, so the
 * application is built with `buildApp` and bound to 127.0.0.1 here.
 */
export async function startFauxqsServer(port = 0): Promise<FauxqsServer> {
  const app = buildApp({ logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: async () => {
      await app.close();
    },
  };
}
