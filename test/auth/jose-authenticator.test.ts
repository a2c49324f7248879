import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT, base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { SIGNING_KEYS_FILE } from '../../adapters/auth/local-signing-keys.js';
import { LocalTokenSigner } from '../../adapters/auth/local-token-signer.js';
import {
  AuthenticationError,
  AuthorizationError,
  IssuerUnavailableError,
  PrincipalKind,
  authorizeRepository,
  type AuthenticationReason,
  type AuthorizationReason,
} from '../../core/ports/authenticator.js';
import {
  GITHUB_AUDIENCE,
  SERVICE_AUDIENCE,
  authenticatorTrusting,
  freePort,
  useLocalIssuers,
} from './local-issuer-fixture.js';

const { keyFolder, startIssuer } = useLocalIssuers();
const REPOSITORY = 'input-output-hk/catalyst-forge';
const github = PrincipalKind.githubActions;
const service = PrincipalKind.service;

function githubToken(overrides: { audience?: string; ttlSeconds?: number; issuedAt?: Date } = {}) {
  return {
    kind: github,
    repository: REPOSITORY,
    audience: overrides.audience ?? GITHUB_AUDIENCE,
    ttlSeconds: overrides.ttlSeconds ?? 600,
    ...(overrides.issuedAt ? { issuedAt: overrides.issuedAt } : {}),
  } as const;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function expect401(promise: Promise<unknown>, reason: AuthenticationReason): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as AuthenticationError).reason).toBe(reason);
}

async function expect403(promise: Promise<unknown>, reason: AuthorizationReason): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(AuthorizationError);
  expect((error as AuthorizationError).reason).toBe(reason);
}

describe('JoseAuthenticator with a local issuer', () => {
  it('accepts a valid GitHub Actions token and returns its repository claim', async () => {
    const issuer = await startIssuer();
    const token = await issuer.sign(githubToken());

    const principal = await authenticatorTrusting(issuer).authenticate(`Bearer ${token}`, github);

    expect(principal).toMatchObject({
      kind: github,
      repository: REPOSITORY,
      subject: `repo:${REPOSITORY}:ref:refs/heads/main`,
    });
    expect(principal.claims).toMatchObject({
      iss: issuer.issuer(github),
      aud: GITHUB_AUDIENCE,
      repository_owner: 'input-output-hk',
    });
    expect(principal.claims['jti']).toEqual(expect.any(String));
  });

  it('accepts a valid service-account token on an internal route', async () => {
    const issuer = await startIssuer();
    const token = await issuer.sign({
      kind: service,
      subject: 'system:serviceaccount:forge:task-worker',
      audience: SERVICE_AUDIENCE,
      ttlSeconds: 600,
    });

    const principal = await authenticatorTrusting(issuer).authenticate(`Bearer ${token}`, service);

    expect(principal).toMatchObject({
      kind: service,
      subject: 'system:serviceaccount:forge:task-worker',
    });
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const issuer = await startIssuer();
    const [header, payload, signature] = (await issuer.sign(githubToken())).split('.') as [
      string,
      string,
      string,
    ];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as object;
    const forged = base64url.encode(JSON.stringify({ ...claims, repository: 'attacker/repo' }));

    await expect401(
      authenticatorTrusting(issuer).authenticate(`Bearer ${header}.${forged}.${signature}`, github),
      'invalid_signature',
    );
  });

  it('refuses a token signed with a key the issuer does not publish, after one refetch', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer, { keySets: { cooldownMs: 0 } });
    await authenticator.authenticate(`Bearer ${await issuer.sign(githubToken())}`, github);
    const impostor = await LocalTokenSigner.open({
      directory: await keyFolder(),
      port: issuer.port,
    });
    const token = await impostor.sign(githubToken());

    await expect401(authenticator.authenticate(`Bearer ${token}`, github), 'unknown_key');
    expect(issuer.requestCounts()).toEqual({ discovery: 1, jwks: 2 });
  });

  it('refuses a token of an issuer it does not trust', async () => {
    const trusted = await startIssuer();
    const other = await startIssuer();
    const token = await other.sign(githubToken());

    await expect401(
      authenticatorTrusting(trusted).authenticate(`Bearer ${token}`, github),
      'untrusted_issuer',
    );
  });

  it('refuses a token for another audience', async () => {
    const issuer = await startIssuer();
    const token = await issuer.sign(githubToken({ audience: 'some-other-service' }));

    await expect401(
      authenticatorTrusting(issuer).authenticate(`Bearer ${token}`, github),
      'invalid_audience',
    );
  });

  it('refuses an expired token, beyond the clock tolerance', async () => {
    const issuer = await startIssuer();
    const issuedAt = new Date(Date.now() - 10 * 60_000);
    const token = await issuer.sign(githubToken({ issuedAt, ttlSeconds: 5 * 60 }));

    await expect401(
      authenticatorTrusting(issuer).authenticate(`Bearer ${token}`, github),
      'expired',
    );
  });

  it('refuses a token that is not valid yet, and accepts one within the clock tolerance', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer, { clockToleranceSeconds: 30 });
    const future = await issuer.sign(githubToken({ issuedAt: new Date(Date.now() + 5 * 60_000) }));
    const skewed = await issuer.sign(githubToken({ issuedAt: new Date(Date.now() + 10_000) }));

    await expect401(authenticator.authenticate(`Bearer ${future}`, github), 'not_yet_valid');
    await expect(authenticator.authenticate(`Bearer ${skewed}`, github)).resolves.toMatchObject({
      repository: REPOSITORY,
    });
  });

  it('refuses unsigned (alg none) and shared-secret (HS256) tokens', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer.issuer(github),
      aud: GITHUB_AUDIENCE,
      sub: `repo:${REPOSITORY}:ref:refs/heads/main`,
      repository: REPOSITORY,
      iat: now,
      exp: now + 600,
    };
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims))}.`;
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a shared secret anyone could guess'));

    await expect401(
      authenticator.authenticate(`Bearer ${unsigned}`, github),
      'unsupported_algorithm',
    );
    await expect401(authenticator.authenticate(`Bearer ${hmac}`, github), 'unsupported_algorithm');
    expect(issuer.requestCounts().jwks).toBe(0);
  });

  it('authorizes only the repository of the token (403 for another one)', async () => {
    const issuer = await startIssuer();
    const token = await issuer.sign(githubToken());
    const principal = await authenticatorTrusting(issuer).authenticate(`Bearer ${token}`, github);

    expect(() => authorizeRepository(principal, 'Input-Output-HK/Catalyst-Forge')).not.toThrow();
    const error = (() => {
      try {
        authorizeRepository(principal, 'input-output-hk/another-repository');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AuthorizationError);
    expect((error as AuthorizationError).reason).toBe('repository_mismatch');
  });

  it('answers 401 for a missing or malformed Authorization header', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer);

    await expect401(authenticator.authenticate(undefined, github), 'missing_token');
    await expect401(authenticator.authenticate('   ', github), 'missing_token');
    await expect401(authenticator.authenticate('Basic dXNlcjpwYXNz', github), 'malformed_header');
    await expect401(authenticator.authenticate('Bearer not-a-jwt', github), 'malformed_header');
    await expect401(authenticator.authenticate('Bearer a.b.c', github), 'malformed_token');
    expect(issuer.requestCounts()).toEqual({ discovery: 0, jwks: 0 });
  });

  it('answers 403 for a valid token of the other kind on a route', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer);
    const githubActionsToken = await issuer.sign(githubToken());
    const serviceToken = await issuer.sign({
      kind: service,
      audience: SERVICE_AUDIENCE,
      ttlSeconds: 600,
    });

    await expect403(
      authenticator.authenticate(`Bearer ${serviceToken}`, github),
      'wrong_principal_kind',
    );
    await expect403(
      authenticator.authenticate(`Bearer ${githubActionsToken}`, service),
      'wrong_principal_kind',
    );
  });

  it('answers 403 for a service subject the configuration does not allow', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer, {
      allowedServiceSubjects: ['system:serviceaccount:forge:*'],
    });
    const sign = (subject: string) =>
      issuer.sign({ kind: service, subject, audience: SERVICE_AUDIENCE, ttlSeconds: 600 });

    await expect(
      authenticator.authenticate(
        `Bearer ${await sign('system:serviceaccount:forge:worker')}`,
        service,
      ),
    ).resolves.toMatchObject({ subject: 'system:serviceaccount:forge:worker' });
    await expect403(
      authenticator.authenticate(
        `Bearer ${await sign('system:serviceaccount:other:pod')}`,
        service,
      ),
      'subject_not_allowed',
    );
  });

  it('fetches discovery and the key set once for many tokens', async () => {
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.sign(githubToken())));

    for (const token of tokens) await authenticator.authenticate(`Bearer ${token}`, github);

    expect(issuer.requestCounts()).toEqual({ discovery: 1, jwks: 1 });
  });

  it('follows a key rotation: new tokens verify after one refetch, old ones still do', async () => {
    const issuer = await startIssuer({ directory: await keyFolder() });
    const authenticator = authenticatorTrusting(issuer, { keySets: { cooldownMs: 0 } });
    const before = await issuer.sign(githubToken());
    await authenticator.authenticate(`Bearer ${before}`, github);

    await issuer.rotateKey();
    const after = await issuer.sign(githubToken());

    await expect(authenticator.authenticate(`Bearer ${after}`, github)).resolves.toMatchObject({
      repository: REPOSITORY,
    });
    await expect(authenticator.authenticate(`Bearer ${before}`, github)).resolves.toMatchObject({
      repository: REPOSITORY,
    });
    expect(issuer.requestCounts()).toEqual({ discovery: 1, jwks: 2 });
  });

  it('reports an unreachable issuer as unavailable, and recovers once it listens', async () => {
    const directory = await keyFolder();
    const port = await freePort();
    const signer = await LocalTokenSigner.open({ directory, port });
    const token = await signer.sign(githubToken());
    const authenticator = authenticatorTrusting(signer, { keySets: { timeoutMs: 2000 } });

    const error = await rejection(authenticator.authenticate(`Bearer ${token}`, github));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect((error as IssuerUnavailableError).retryable).toBe(true);

    await startIssuer({ directory, port });
    await expect(authenticator.authenticate(`Bearer ${token}`, github)).resolves.toMatchObject({
      repository: REPOSITORY,
    });
    expect((await stat(join(directory, SIGNING_KEYS_FILE))).mode & 0o777).toBe(0o600);
  });
});
