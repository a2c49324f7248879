import { z } from 'zod';
import { durationSeconds } from '../core/duration.js';
import { PrincipalKind } from '../core/ports/authenticator.js';
import { ConfigurationError, parseEnvironment } from './environment.js';

/** GitHub Actions' OIDC issuer, which the aws mode trusts unless told otherwise. */
export const GITHUB_ACTIONS_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
/** The audience GitHub Actions tokens carry in the embedded mode (`forge-pipeline token`). */
export const DEFAULT_GITHUB_OIDC_AUDIENCE = 'catalyst-forge';
/** The audience service-account tokens carry in the embedded mode. */
export const DEFAULT_SERVICE_OIDC_AUDIENCE = 'catalyst-forge-internal';
/** The port of the embedded mode's local issuer: fixed, so tokens outlive a server restart. */
export const DEFAULT_LOCAL_ISSUER_PORT = 8471;

/** The path of each kind of issuer on the local issuer's server. */
const LOCAL_ISSUER_PATHS: Readonly<Record<PrincipalKind, string>> = {
  'github-actions': '/github',
  service: '/service',
};

/**
 * The issuer URL (`iss`) of one kind of token on a local issuer listening on 127.0.0.1:`port`.
 * The embedded server and `forge-pipeline token` both derive it from the configured port, so
 * they agree without talking to each other.
 */
export function localIssuerUrl(port: number, kind: PrincipalKind): string {
  return `http://127.0.0.1:${port}${LOCAL_ISSUER_PATHS[kind]}`;
}

const issuerUrl = z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, ''));
const audience = z.string().min(1).max(255);

/**
 * The `FORGE_` variables of authentication; docs/configuration.md documents each one. Issuer
 * and audience defaults depend on `FORGE_MODE`, so they are applied in {@link loadAuthConfig}.
 */
export const AuthEnvironmentSchema = z.object({
  FORGE_MODE: z.enum(['embedded', 'aws']).default('embedded'),
  FORGE_GITHUB_OIDC_ISSUER: issuerUrl.optional(),
  FORGE_GITHUB_OIDC_AUDIENCE: audience.optional(),
  FORGE_SERVICE_OIDC_ISSUER: issuerUrl.optional(),
  FORGE_SERVICE_OIDC_AUDIENCE: audience.optional(),
  /** Comma-separated subjects allowed on internal routes; a trailing `*` matches any rest. */
  FORGE_SERVICE_OIDC_SUBJECTS: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((subject) => subject.trim())
        .filter((subject) => subject !== ''),
    )
    .optional(),
  FORGE_AUTH_CLOCK_TOLERANCE: durationSeconds
    .refine((seconds) => seconds <= 300, 'must be at most 5m')
    .default(30),
  FORGE_LOCAL_ISSUER_DIR: z.string().min(1).default('.forge-data/issuer'),
  FORGE_LOCAL_ISSUER_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(DEFAULT_LOCAL_ISSUER_PORT),
});

/** One trusted issuer and the audience its tokens must carry. */
export interface TrustedIssuerConfig {
  readonly issuer: string;
  readonly audience: string;
}

/** Authentication settings, defaults applied. */
export interface AuthConfig {
  readonly mode: 'embedded' | 'aws';
  /** Where GitHub Actions OIDC tokens come from (public routes). */
  readonly githubActions: TrustedIssuerConfig;
  /** Where service-account tokens come from (internal routes). */
  readonly service: TrustedIssuerConfig & {
    /** Subjects allowed on internal routes (`*` suffix wildcard); any when undefined. */
    readonly allowedSubjects: readonly string[] | undefined;
  };
  readonly clockToleranceSeconds: number;
  /** The embedded mode's own issuer: key folder and port on 127.0.0.1. */
  readonly localIssuer: { readonly directory: string; readonly port: number };
}

/**
 * Reads the authentication variables once. In the aws mode the GitHub issuer defaults to
 * GitHub Actions' and everything else is required; in the embedded mode both issuers default to
 * the local issuer on 127.0.0.1:`FORGE_LOCAL_ISSUER_PORT`. A bad or missing value is a
 * `ConfigurationError` naming its variable.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const parsed = parseEnvironment(AuthEnvironmentSchema, env);
  const embedded = parsed.FORGE_MODE === 'embedded';
  const port = parsed.FORGE_LOCAL_ISSUER_PORT;
  const pick = <T>(variable: string, value: T | undefined, embeddedDefault: T): T => {
    if (value !== undefined) return value;
    if (embedded) return embeddedDefault;
    throw new ConfigurationError(variable, 'required when FORGE_MODE is aws');
  };
  const githubIssuer =
    parsed.FORGE_GITHUB_OIDC_ISSUER ??
    (embedded ? localIssuerUrl(port, PrincipalKind.githubActions) : GITHUB_ACTIONS_OIDC_ISSUER);
  const serviceIssuer = pick(
    'FORGE_SERVICE_OIDC_ISSUER',
    parsed.FORGE_SERVICE_OIDC_ISSUER,
    localIssuerUrl(port, PrincipalKind.service),
  );
  if (serviceIssuer === githubIssuer) {
    // The issuer is what tells a service token from a GitHub one.
    throw new ConfigurationError(
      'FORGE_SERVICE_OIDC_ISSUER',
      'must differ from FORGE_GITHUB_OIDC_ISSUER',
    );
  }
  return {
    mode: parsed.FORGE_MODE,
    githubActions: {
      issuer: githubIssuer,
      audience: pick(
        'FORGE_GITHUB_OIDC_AUDIENCE',
        parsed.FORGE_GITHUB_OIDC_AUDIENCE,
        DEFAULT_GITHUB_OIDC_AUDIENCE,
      ),
    },
    service: {
      issuer: serviceIssuer,
      audience: pick(
        'FORGE_SERVICE_OIDC_AUDIENCE',
        parsed.FORGE_SERVICE_OIDC_AUDIENCE,
        DEFAULT_SERVICE_OIDC_AUDIENCE,
      ),
      allowedSubjects: parsed.FORGE_SERVICE_OIDC_SUBJECTS,
    },
    clockToleranceSeconds: parsed.FORGE_AUTH_CLOCK_TOLERANCE,
    localIssuer: { directory: parsed.FORGE_LOCAL_ISSUER_DIR, port },
  };
}
