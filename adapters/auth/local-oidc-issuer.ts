import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, PrincipalKind } from '../../core/ports/authenticator.js';
import { LOCAL_SIGNING_ALGORITHM, LocalSigningKeys } from './local-signing-keys.js';
import { LocalTokenSigner, type LocalTokenRequest } from './local-token-signer.js';

/** Options of {@link LocalOidcIssuer.start}. */
export interface LocalOidcIssuerOptions {
  /** The key folder shared with `forge-pipeline token` (`FORGE_LOCAL_ISSUER_DIR`). */
  readonly directory: string;
  /** The port on 127.0.0.1 (`FORGE_LOCAL_ISSUER_PORT`); 0 picks a free one (tests). */
  readonly port: number;
}

/** How many times each document was served, for diagnostics and tests of key caching. */
export interface IssuerRequestCounts {
  readonly discovery: number;
  readonly jwks: number;
}

const KINDS: readonly PrincipalKind[] = Object.values(PrincipalKind);

/**
 * The embedded mode's OIDC issuer, so the API keeps the same token checks without GitHub or a
 * cluster: an HTTP server on 127.0.0.1 that serves, for each kind of token, an issuer
 * (`/github`, `/service`) with its `/.well-known/openid-configuration` and its key set
 * (`/.well-known/jwks`), and signs RS256 tokens with the persisted key pair. Start it with
 * {@link LocalOidcIssuer.start}; {@link close} is idempotent.
 */
export class LocalOidcIssuer {
  readonly #server: Server;
  readonly #keys: LocalSigningKeys;
  readonly #counts = { discovery: 0, jwks: 0 };
  #signer: LocalTokenSigner | undefined;
  #closing: Promise<void> | undefined;

  private constructor(keys: LocalSigningKeys) {
    this.#keys = keys;
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  /** Opens the key folder (creating a key pair if it has none) and listens on 127.0.0.1. */
  static async start(options: LocalOidcIssuerOptions): Promise<LocalOidcIssuer> {
    const issuer = new LocalOidcIssuer(await LocalSigningKeys.open(options.directory));
    await new Promise<void>((resolve, reject) => {
      issuer.#server.once('error', reject);
      issuer.#server.listen(options.port, '127.0.0.1', () => {
        issuer.#server.off('error', reject);
        resolve();
      });
    });
    issuer.#signer = new LocalTokenSigner({ keys: issuer.#keys, port: issuer.port });
    return issuer;
  }

  /** The server's port on 127.0.0.1. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The issuer URL (`iss`) of tokens of `kind`. */
  issuer(kind: PrincipalKind): string {
    return this.#started().issuer(kind);
  }

  /** Signs one token with the current key. */
  sign(request: LocalTokenRequest): Promise<string> {
    return this.#started().sign(request);
  }

  /** Starts signing with a new key; the previous one stays in the key set until the next. */
  rotateKey(): Promise<string> {
    return this.#keys.rotate();
  }

  /** How many discovery documents and key sets were served since start. */
  requestCounts(): IssuerRequestCounts {
    return { ...this.#counts };
  }

  /** Stops the server, ending idle keep-alive connections; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #started(): LocalTokenSigner {
    if (!this.#signer) throw new AuthError('the local issuer is not listening');
    return this.#signer;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const kind = KINDS.find((candidate) => path.startsWith(pathOf(this.issuer(candidate))));
    if (request.method !== 'GET' || kind === undefined) {
      sendJson(response, 404, { error: 'not found' });
      return;
    }
    const issuer = this.issuer(kind);
    const rest = path.slice(pathOf(issuer).length);
    if (rest === '/.well-known/openid-configuration') {
      this.#counts.discovery++;
      sendJson(response, 200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [LOCAL_SIGNING_ALGORITHM],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'repository'],
      });
    } else if (rest === '/.well-known/jwks') {
      this.#counts.jwks++;
      sendJson(response, 200, this.#keys.publicKeySet());
    } else {
      sendJson(response, 404, { error: 'not found' });
    }
  }
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
