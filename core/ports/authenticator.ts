import { ForgeError } from '../errors.js';

/**
 * Who may call a route (DESIGN.md section 6): GitHub Actions workflows on the public routes
 * (`POST /v1/runs` and the run reads), service accounts (dispatchers, workers) on the internal
 * ones (`PUT /v1/tasks/{id}/status`, `PUT /v1/steps/{id}/status`, `GET /v1/jobs/{run_id}`).
 */
export const PrincipalKind = {
  githubActions: 'github-actions',
  service: 'service',
} as const;
/** One of {@link PrincipalKind}. */
export type PrincipalKind = (typeof PrincipalKind)[keyof typeof PrincipalKind];

/** The verified claims of a token, as the issuer wrote them. */
export type TokenClaims = Readonly<Record<string, unknown>>;

/** A GitHub Actions workflow, identified by its OIDC token's `repository` claim (`owner/name`). */
export interface GitHubActionsPrincipal {
  readonly kind: typeof PrincipalKind.githubActions;
  readonly repository: string;
  /** The token's `sub`, e.g. `repo:owner/name:ref:refs/heads/main`. */
  readonly subject: string;
  readonly claims: TokenClaims;
}

/** An internal caller, identified by its service-account token's `sub`. */
export interface ServicePrincipal {
  readonly kind: typeof PrincipalKind.service;
  /** The token's `sub`, e.g. `system:serviceaccount:forge:task-worker`. */
  readonly subject: string;
  readonly claims: TokenClaims;
}

/** A caller whose bearer token was verified. */
export type Principal = GitHubActionsPrincipal | ServicePrincipal;

/**
 * Verifies the bearer token of a request. The API calls it once per request with the raw
 * `Authorization` header and the kind of caller the route accepts; it answers the principal or
 * throws an {@link AuthenticationError} (401), an {@link AuthorizationError} (403) or, when an
 * issuer cannot be reached, an {@link IssuerUnavailableError}.
 */
export interface Authenticator {
  authenticate(authorization: string | undefined, accepts: PrincipalKind): Promise<Principal>;
}

/** Why a request is not authenticated (401); the API puts it in `error.details.reason`. */
export const AuthenticationReason = {
  missingToken: 'missing_token',
  malformedHeader: 'malformed_header',
  malformedToken: 'malformed_token',
  unsupportedAlgorithm: 'unsupported_algorithm',
  untrustedIssuer: 'untrusted_issuer',
  invalidSignature: 'invalid_signature',
  unknownKey: 'unknown_key',
  invalidAudience: 'invalid_audience',
  expired: 'expired',
  notYetValid: 'not_yet_valid',
  invalidClaims: 'invalid_claims',
} as const;
/** One of {@link AuthenticationReason}. */
export type AuthenticationReason = (typeof AuthenticationReason)[keyof typeof AuthenticationReason];

/** Why an authenticated caller may not do what it asked (403). */
export const AuthorizationReason = {
  /** A valid token of the other kind: a service token on a public route, or the reverse. */
  wrongPrincipalKind: 'wrong_principal_kind',
  /** A GitHub Actions token of another repository than the one the request names. */
  repositoryMismatch: 'repository_mismatch',
  /** A service-account token whose subject the configuration does not allow. */
  subjectNotAllowed: 'subject_not_allowed',
} as const;
/** One of {@link AuthorizationReason}. */
export type AuthorizationReason = (typeof AuthorizationReason)[keyof typeof AuthorizationReason];

/** The root of the authentication module's errors. */
export class AuthError extends ForgeError {}

/**
 * The request carries no acceptable credentials (HTTP 401). The message is safe to return to
 * the caller: it names what is wrong, never a key or the token.
 */
export class AuthenticationError extends AuthError {
  constructor(
    readonly reason: AuthenticationReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** The caller is known but not allowed to do this (HTTP 403). */
export class AuthorizationError extends AuthError {
  constructor(
    readonly reason: AuthorizationReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A trusted issuer's discovery document or key set cannot be fetched: nothing the caller can
 * fix, and trying again later may help. The API answers it as a server-side failure.
 */
export class IssuerUnavailableError extends AuthError {
  constructor(
    readonly issuer: string,
    problem: string,
    options: { cause?: unknown } = {},
  ) {
    super(`issuer ${issuer} unavailable: ${problem}`, { ...options, retryable: true });
  }
}

/**
 * Checks that `principal` may act for `repository`: only a GitHub Actions principal whose
 * `repository` claim names it (compared without case, as GitHub compares names). Throws an
 * {@link AuthorizationError} otherwise. Whether the repository is registered is the API's
 * question, asked after this one.
 */
export function authorizeRepository(principal: Principal, repository: string): void {
  if (principal.kind !== PrincipalKind.githubActions) {
    throw new AuthorizationError(
      AuthorizationReason.wrongPrincipalKind,
      'only a GitHub Actions token may act for a repository',
    );
  }
  if (principal.repository.toLowerCase() !== repository.toLowerCase()) {
    throw new AuthorizationError(
      AuthorizationReason.repositoryMismatch,
      `the token is for repository ${principal.repository}, not ${repository}`,
    );
  }
}
