import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import type { AuthConfig } from '../../config/auth-environment.js';
import { RepositoryFullNameSchema } from '../../core/contracts/api.js';
import { errorMessage } from '../../core/errors.js';
import {
  AuthError,
  AuthenticationError,
  AuthenticationReason,
  AuthorizationError,
  AuthorizationReason,
  IssuerUnavailableError,
  PrincipalKind,
  type Authenticator,
  type Principal,
} from '../../core/ports/authenticator.js';
import {
  ACCEPTED_ALGORITHMS,
  OidcTrustedIssuer,
  type KeySetOptions,
} from './oidc-trusted-issuer.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Longer bearer tokens are refused before any parsing (GitHub's are about 1 KB). */
const MAX_TOKEN_LENGTH = 16 * 1024;
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

/** Options of {@link JoseAuthenticator}. */
export interface JoseAuthenticatorOptions {
  readonly githubActions: { readonly issuer: string; readonly audience: string };
  readonly service: { readonly issuer: string; readonly audience: string };
  /** Subjects allowed on internal routes; a trailing `*` matches any rest. Any when absent. */
  readonly allowedServiceSubjects?: readonly string[] | undefined;
  /** Leeway for `exp`, `nbf` and `iat` against clock skew; default 30 s. */
  readonly clockToleranceSeconds?: number;
  /** How issuers' key sets are fetched and cached. */
  readonly keySets?: KeySetOptions;
  /**
   * How long a token that passed verification is answered from memory (never past its `exp`);
   * default {@link DEFAULT_VERIFIED_TOKEN_MAX_AGE_MS}, 0 verifies every request.
   */
  readonly verifiedTokenMaxAgeMs?: number;
  /** The clock tokens are checked against; injectable for tests. */
  readonly now?: () => Date;
}

/** A verified token is answered from memory for at most a minute. */
export const DEFAULT_VERIFIED_TOKEN_MAX_AGE_MS = 60_000;
/** Most verified tokens kept in memory (about 1 KB each). */
const VERIFIED_TOKEN_ENTRIES = 1000;

/** What a verified token is known to be: its kind of caller and its claims. */
interface VerifiedToken {
  readonly kind: PrincipalKind;
  readonly claims: JWTPayload;
}

/**
 * The {@link Authenticator} on jose: a bearer JWT is routed by its `iss` to one of two trusted
 * issuers (GitHub Actions OIDC for public routes, the service-account issuer for internal ones),
 * verified there (signature RS256/ES256 from the issuer's key set, `iss`, `aud`, `exp`, `nbf`),
 * and turned into a principal. Every failure of the token is a 401 with a reason; a valid token
 * of the other kind than the route accepts is a 403 (`wrong_principal_kind`), as is a service
 * subject the configuration does not allow. A token that passed verification is not verified
 * again while it is kept in memory (see {@link VerifiedTokenCache}); the route's checks still
 * run on every request.
 */
export class JoseAuthenticator implements Authenticator {
  readonly #issuers: ReadonlyMap<string, { kind: PrincipalKind; issuer: OidcTrustedIssuer }>;
  readonly #allowedSubjects: readonly string[] | undefined;
  readonly #clockTolerance: number;
  readonly #verified: VerifiedTokenCache<VerifiedToken>;
  readonly #now: () => Date;
  /** Verifications under way, by token: requests presenting the same token share one. */
  readonly #verifying = new Map<string, Promise<VerifiedToken>>();

  constructor(options: JoseAuthenticatorOptions) {
    const keySets = options.keySets ?? {};
    this.#issuers = new Map([
      [
        options.githubActions.issuer,
        {
          kind: PrincipalKind.githubActions,
          issuer: new OidcTrustedIssuer({ ...options.githubActions, ...keySets }),
        },
      ],
      [
        options.service.issuer,
        {
          kind: PrincipalKind.service,
          issuer: new OidcTrustedIssuer({ ...options.service, ...keySets }),
        },
      ],
    ]);
    this.#allowedSubjects = options.allowedServiceSubjects;
    this.#clockTolerance = options.clockToleranceSeconds ?? 30;
    this.#verified = new VerifiedTokenCache({
      maxAgeMs: options.verifiedTokenMaxAgeMs ?? DEFAULT_VERIFIED_TOKEN_MAX_AGE_MS,
      maxEntries: VERIFIED_TOKEN_ENTRIES,
    });
    this.#now = options.now ?? (() => new Date());
  }

  /** The authenticator that `config` (from `loadAuthConfig`) describes. */
  static fromConfig(config: AuthConfig, keySets?: KeySetOptions): JoseAuthenticator {
    return new JoseAuthenticator({
      githubActions: config.githubActions,
      service: config.service,
      allowedServiceSubjects: config.service.allowedSubjects,
      clockToleranceSeconds: config.clockToleranceSeconds,
      keySets,
    });
  }

  async authenticate(
    authorization: string | undefined,
    accepts: PrincipalKind,
  ): Promise<Principal> {
    const token = bearerToken(authorization);
    const now = this.#now();
    const { kind, claims } =
      this.#verified.get(token, now.getTime()) ?? (await this.#verifyOnce(token, now));
    if (kind !== accepts) {
      throw new AuthorizationError(
        AuthorizationReason.wrongPrincipalKind,
        kind === PrincipalKind.service
          ? 'a service-account token is not accepted on this route'
          : 'a GitHub Actions token is not accepted on this route',
      );
    }
    return kind === PrincipalKind.githubActions
      ? githubActionsPrincipal(claims)
      : this.#servicePrincipal(claims);
  }

  /** {@link JoseAuthenticator.#verify}, shared by the requests that present `token` meanwhile. */
  #verifyOnce(token: string, now: Date): Promise<VerifiedToken> {
    let verifying = this.#verifying.get(token);
    if (verifying === undefined) {
      verifying = this.#verify(token, now).finally(() => this.#verifying.delete(token));
      this.#verifying.set(token, verifying);
    }
    return verifying;
  }

  /** Verifies `token` with the issuer its `iss` names, and keeps what it is until it expires. */
  async #verify(token: string, now: Date): Promise<VerifiedToken> {
    const trusted = this.#issuers.get(unverifiedIssuer(token));
    if (!trusted) {
      throw new AuthenticationError(
        AuthenticationReason.untrustedIssuer,
        'the token comes from an issuer this service does not trust',
      );
    }
    let claims: JWTPayload;
    try {
      claims = await trusted.issuer.verify(token, this.#clockTolerance, now);
    } catch (error) {
      throw verificationError(trusted.issuer.issuer, error);
    }
    const verified: VerifiedToken = { kind: trusted.kind, claims: Object.freeze(claims) };
    // `exp` is required, so verification guarantees it is a number.
    this.#verified.remember(token, verified, now.getTime(), (claims.exp as number) * 1000);
    return verified;
  }

  #servicePrincipal(claims: JWTPayload): Principal {
    const subject = claims.sub as string;
    if (
      this.#allowedSubjects &&
      !this.#allowedSubjects.some((allowed) => matches(allowed, subject))
    ) {
      throw new AuthorizationError(
        AuthorizationReason.subjectNotAllowed,
        `service account ${subject} may not call internal routes`,
      );
    }
    return { kind: PrincipalKind.service, subject, claims };
  }
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new AuthenticationError(AuthenticationReason.missingToken, 'a bearer token is required');
  }
  if (authorization.length > MAX_TOKEN_LENGTH) {
    throw new AuthenticationError(AuthenticationReason.malformedToken, 'the token is too long');
  }
  const match = BEARER.exec(authorization.trim());
  if (!match) {
    throw new AuthenticationError(
      AuthenticationReason.malformedHeader,
      'the Authorization header must be "Bearer <JWT>"',
    );
  }
  return match[1] as string;
}

/** The token's `iss`, read before verification only to pick the issuer that verifies it. */
function unverifiedIssuer(token: string): string {
  let algorithm: unknown;
  let issuer: unknown;
  try {
    algorithm = decodeProtectedHeader(token).alg;
    issuer = decodeJwt(token).iss;
  } catch (error) {
    throw new AuthenticationError(AuthenticationReason.malformedToken, 'the token is not a JWT', {
      cause: error,
    });
  }
  if (typeof algorithm !== 'string' || !ACCEPTED_ALGORITHMS.includes(algorithm)) {
    throw new AuthenticationError(
      AuthenticationReason.unsupportedAlgorithm,
      `tokens signed with ${String(algorithm)} are not accepted (only ${ACCEPTED_ALGORITHMS.join(', ')})`,
    );
  }
  if (typeof issuer !== 'string') {
    throw new AuthenticationError(AuthenticationReason.invalidClaims, 'the token has no issuer');
  }
  return issuer.replace(/\/+$/, '');
}

function githubActionsPrincipal(claims: JWTPayload): Principal {
  const repository = RepositoryFullNameSchema.safeParse(claims['repository']);
  if (!repository.success) {
    throw new AuthenticationError(
      AuthenticationReason.invalidClaims,
      'the token has no valid repository claim',
    );
  }
  return {
    kind: PrincipalKind.githubActions,
    repository: repository.data,
    subject: claims.sub as string,
    claims,
  };
}

function matches(allowed: string, subject: string): boolean {
  return allowed.endsWith('*') ? subject.startsWith(allowed.slice(0, -1)) : subject === allowed;
}

/** Maps what jose throws to a reason; anything that is not about the token means the issuer. */
function verificationError(issuer: string, error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const { code, claim } = error as { code?: unknown; claim?: unknown };
  const reject = (reason: AuthenticationReason, message: string) =>
    new AuthenticationError(reason, message, { cause: error });
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return reject(AuthenticationReason.expired, 'the token has expired');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return reject(AuthenticationReason.invalidSignature, 'the token signature is not valid');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return reject(AuthenticationReason.unknownKey, 'the token was signed with an unknown key');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return reject(AuthenticationReason.unsupportedAlgorithm, 'the token algorithm is refused');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return reject(AuthenticationReason.malformedToken, 'the token is malformed');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimError(claim, reject);
    default:
      return new IssuerUnavailableError(issuer, errorMessage(error), { cause: error });
  }
}

function claimError(
  claim: unknown,
  reject: (reason: AuthenticationReason, message: string) => AuthenticationError,
): AuthenticationError {
  switch (claim) {
    case 'nbf':
      return reject(AuthenticationReason.notYetValid, 'the token is not valid yet');
    case 'aud':
      return reject(AuthenticationReason.invalidAudience, 'the token is for another audience');
    case 'iss':
      return reject(AuthenticationReason.untrustedIssuer, 'the token comes from another issuer');
    default:
      return reject(
        AuthenticationReason.invalidClaims,
        `the token claim ${String(claim)} is invalid`,
      );
  }
}
