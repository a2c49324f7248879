import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { localIssuerUrl } from '../../config/auth-environment.js';
import { AuthError, PrincipalKind } from '../../core/ports/authenticator.js';
import { LOCAL_SIGNING_ALGORITHM, LocalSigningKeys } from './local-signing-keys.js';
import { MAX_LOCAL_TOKEN_TTL_SECONDS } from './local-token-limits.js';

export { MAX_LOCAL_TOKEN_TTL_SECONDS };
/** The subject of a service token when the caller names none. */
export const DEFAULT_LOCAL_SERVICE_SUBJECT = 'system:serviceaccount:forge:local';

/** What a locally signed token is for. */
export type LocalTokenRequest = {
  readonly audience: string;
  readonly ttlSeconds: number;
  /** When the token is issued; now by default (tests sign expired or future tokens with it). */
  readonly issuedAt?: Date;
} & (
  | {
      readonly kind: typeof PrincipalKind.githubActions;
      /** `owner/name`, the `repository` claim. */
      readonly repository: string;
      /** The ref the `sub` and `ref` claims name; `refs/heads/main` by default. */
      readonly ref?: string;
    }
  | { readonly kind: typeof PrincipalKind.service; readonly subject?: string }
);

/** A token request the signer refuses (a lifetime out of range). */
export class LocalTokenRequestError extends AuthError {}

/**
 * Signs RS256 tokens as the embedded mode's local issuer: GitHub-Actions-shaped ones
 * (`repository`, `repository_owner`, `ref`, `sub` = `repo:<repository>:ref:<ref>`) and
 * service-account ones, with `iss`, `aud`, `iat`, `nbf`, `exp` and `jti`. The issuer URL comes
 * from the local issuer's port, so a token signed while no server runs verifies once one
 * listens there with the same key folder.
 */
export class LocalTokenSigner {
  readonly #keys: LocalSigningKeys;
  readonly #port: number;

  constructor(options: { readonly keys: LocalSigningKeys; readonly port: number }) {
    this.#keys = options.keys;
    this.#port = options.port;
  }

  /** Opens (or creates) the key folder `directory` and signs for 127.0.0.1:`port`. */
  static async open(options: { directory: string; port: number }): Promise<LocalTokenSigner> {
    const keys = await LocalSigningKeys.open(options.directory);
    return new LocalTokenSigner({ keys, port: options.port });
  }

  /** The `iss` of tokens of `kind`. */
  issuer(kind: PrincipalKind): string {
    return localIssuerUrl(this.#port, kind);
  }

  /** Signs one token with the current key. */
  async sign(request: LocalTokenRequest): Promise<string> {
    const { ttlSeconds } = request;
    if (
      !Number.isInteger(ttlSeconds) ||
      ttlSeconds < 1 ||
      ttlSeconds > MAX_LOCAL_TOKEN_TTL_SECONDS
    ) {
      throw new LocalTokenRequestError(
        `a token lives from 1 s to ${MAX_LOCAL_TOKEN_TTL_SECONDS} s, not ${ttlSeconds}`,
      );
    }
    const issuedAt = Math.floor((request.issuedAt ?? new Date()).getTime() / 1000);
    const { claims, subject } = subjectClaims(request);
    const { kid, privateKey } = await this.#keys.current();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: LOCAL_SIGNING_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.issuer(request.kind))
      .setAudience(request.audience)
      .setSubject(subject)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .setJti(randomUUID())
      .sign(privateKey);
  }
}

function subjectClaims(request: LocalTokenRequest): {
  claims: Record<string, string>;
  subject: string;
} {
  if (request.kind === PrincipalKind.service) {
    return { claims: {}, subject: request.subject ?? DEFAULT_LOCAL_SERVICE_SUBJECT };
  }
  const ref = request.ref ?? 'refs/heads/main';
  return {
    claims: {
      repository: request.repository,
      repository_owner: request.repository.split('/')[0] ?? request.repository,
      ref,
    },
    subject: `repo:${request.repository}:ref:${ref}`,
  };
}
