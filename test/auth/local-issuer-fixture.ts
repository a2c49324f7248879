import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import {
  JoseAuthenticator,
  type JoseAuthenticatorOptions,
} from '../../adapters/auth/jose-authenticator.js';
import { LocalOidcIssuer } from '../../adapters/auth/local-oidc-issuer.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';

/** The audience the tests' authenticators expect of GitHub Actions tokens. */
export const GITHUB_AUDIENCE = 'catalyst-forge';
/** The audience the tests' authenticators expect of service-account tokens. */
export const SERVICE_AUDIENCE = 'catalyst-forge-internal';

/**
 * Registers cleanup of temporary key folders and local issuers, and answers helpers that make
 * them: each test gets its own server on 127.0.0.1, stopped after it. Issuers share one key
 * folder unless a test names its own (RSA key generation is the slow part).
 */
export function useLocalIssuers() {
  const cleanups: (() => Promise<void>)[] = [];
  let shared: Promise<string> | undefined;
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    if (shared) await rm(await shared, { recursive: true, force: true });
  });

  const keyFolder = async (): Promise<string> => {
    const folder = await mkdtemp(join(tmpdir(), 'forge-issuer-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    return folder;
  };

  const startIssuer = async (
    options: { directory?: string; port?: number } = {},
  ): Promise<LocalOidcIssuer> => {
    const issuer = await LocalOidcIssuer.start({
      directory: options.directory ?? (await (shared ??= mkdtemp(join(tmpdir(), 'forge-issuer-')))),
      port: options.port ?? 0,
    });
    cleanups.push(() => issuer.close());
    return issuer;
  };

  return { keyFolder, startIssuer };
}

/**
 * An authenticator trusting `issuer` (a local issuer, or a signer for one) for both kinds of
 * token, with the tests' audiences.
 */
export function authenticatorTrusting(
  issuer: { issuer(kind: PrincipalKind): string },
  options: Partial<JoseAuthenticatorOptions> = {},
): JoseAuthenticator {
  return new JoseAuthenticator({
    githubActions: {
      issuer: issuer.issuer(PrincipalKind.githubActions),
      audience: GITHUB_AUDIENCE,
    },
    service: { issuer: issuer.issuer(PrincipalKind.service), audience: SERVICE_AUDIENCE },
    ...options,
  });
}

/** A port that was free a moment ago, for a server that must listen where a token points. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
