import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import { IssuerUnavailableError } from '../../core/ports/authenticator.js';

/** The only signature algorithms accepted: never `none`, never a shared-secret HS*. */
export const ACCEPTED_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

/** How an issuer's keys are fetched and kept. */
export interface KeySetOptions {
  /** Least time between two key set fetches, also for unknown `kid`s; default 30 s. */
  readonly cooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again; default 10 min. */
  readonly cacheMaxAgeMs?: number;
  /** Timeout of one discovery or key set request; default 5 s. */
  readonly timeoutMs?: number;
}

/** Options of {@link OidcTrustedIssuer}. */
export interface OidcTrustedIssuerOptions extends KeySetOptions {
  /** The issuer URL, exactly as tokens carry it in `iss`. */
  readonly issuer: string;
  /** The `aud` its tokens must carry. */
  readonly audience: string;
}

const DiscoveryDocumentSchema = z.looseObject({ issuer: z.string(), jwks_uri: z.url() });

/**
 * One issuer this product trusts, and the checks of its tokens: its key set is found through
 * OIDC discovery (`<issuer>/.well-known/openid-configuration` → `jwks_uri`) on first use and
 * fetched with jose's remote key set (cached, with a cooldown; a token with an unknown `kid`
 * makes it fetch once more); a token must be signed with RS256 or ES256 by one of those keys
 * and carry this `iss` and `aud`, and a current `exp` and `nbf`. The constructor does no I/O;
 * a failed discovery is tried again on the next token.
 */
export class OidcTrustedIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly #options: Required<KeySetOptions>;
  #keySet: Promise<JWTVerifyGetKey> | undefined;

  constructor(options: OidcTrustedIssuerOptions) {
    this.issuer = options.issuer;
    this.audience = options.audience;
    this.#options = {
      cooldownMs: options.cooldownMs ?? 30_000,
      cacheMaxAgeMs: options.cacheMaxAgeMs ?? 600_000,
      timeoutMs: options.timeoutMs ?? 5000,
    };
  }

  /**
   * Verifies `token` at `currentDate` and answers its claims. jose's own errors pass through
   * (the caller maps them to reasons); an unreachable issuer is an `IssuerUnavailableError`.
   */
  async verify(
    token: string,
    clockToleranceSeconds: number,
    currentDate: Date = new Date(),
  ): Promise<JWTPayload> {
    const keySet = await this.#discoverKeySet();
    const { payload } = await jwtVerify(token, keySet, {
      issuer: this.issuer,
      audience: this.audience,
      algorithms: [...ACCEPTED_ALGORITHMS],
      clockTolerance: clockToleranceSeconds,
      currentDate,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  }

  #discoverKeySet(): Promise<JWTVerifyGetKey> {
    this.#keySet ??= this.#fetchDiscovery().catch((error: unknown) => {
      this.#keySet = undefined;
      throw error;
    });
    return this.#keySet;
  }

  async #fetchDiscovery(): Promise<JWTVerifyGetKey> {
    const url = `${this.issuer}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
      body = await response.json();
    } catch (error) {
      throw new IssuerUnavailableError(this.issuer, errorMessage(error), { cause: error });
    }
    const document = DiscoveryDocumentSchema.safeParse(body);
    if (!document.success) {
      throw new IssuerUnavailableError(this.issuer, `${url} is not an OpenID configuration`);
    }
    if (document.data.issuer.replace(/\/+$/, '') !== this.issuer) {
      throw new IssuerUnavailableError(
        this.issuer,
        `its discovery document names issuer ${document.data.issuer}`,
      );
    }
    const jwksUri = new URL(document.data.jwks_uri);
    if (jwksUri.protocol !== 'https:' && jwksUri.protocol !== new URL(this.issuer).protocol) {
      throw new IssuerUnavailableError(this.issuer, `key set ${jwksUri.href} is not https`);
    }
    return createRemoteJWKSet(jwksUri, {
      cooldownDuration: this.#options.cooldownMs,
      cacheMaxAge: this.#options.cacheMaxAgeMs,
      timeoutDuration: this.#options.timeoutMs,
    });
  }
}
