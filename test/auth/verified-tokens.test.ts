import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  AuthorizationError,
  PrincipalKind,
} from '../../core/ports/authenticator.js';
import {
  GITHUB_AUDIENCE,
  SERVICE_AUDIENCE,
  authenticatorTrusting,
  useLocalIssuers,
} from './local-issuer-fixture.js';

/*
 * A token that passed verification is answered from memory by the JoseAuthenticator, within
 * bounds: never past the token's `exp`, never longer than the configured age (so a key the
 * issuer withdrew is not trusted longer than that), and always through the route's own checks.
 * The authenticator's clock is set by each test; jose checks `exp` against the same clock.
 */

const { keyFolder, startIssuer } = useLocalIssuers();
const REPOSITORY = 'input-output-hk/catalyst-forge';
const github = PrincipalKind.githubActions;

/** A clock the test moves; starts at the real time (tokens are signed at the real time). */
function testClock() {
  let now = Date.now();
  return {
    now: () => new Date(now),
    advanceSeconds(seconds: number) {
      now += seconds * 1000;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('JoseAuthenticator: verified tokens kept in memory', () => {
  it('answers a verified token without its key while the max age lasts, then verifies it again', async () => {
    // Arrange
    const issuer = await startIssuer({ directory: await keyFolder() });
    const clock = testClock();
    const authenticator = authenticatorTrusting(issuer, {
      keySets: { cooldownMs: 0 },
      verifiedTokenMaxAgeMs: 60_000,
      now: clock.now,
    });
    const sign = () =>
      issuer.sign({
        kind: github,
        repository: REPOSITORY,
        audience: GITHUB_AUDIENCE,
        ttlSeconds: 600,
      });
    const old = await sign();
    await authenticator.authenticate(`Bearer ${old}`, github);
    // Two rotations withdraw the old key; a token of the newest key makes the key set refetched.
    await issuer.rotateKey();
    await issuer.rotateKey();
    await authenticator.authenticate(`Bearer ${await sign()}`, github);

    // Act
    clock.advanceSeconds(30);
    const remembered = await authenticator.authenticate(`Bearer ${old}`, github);
    clock.advanceSeconds(31);
    const verifiedAgain = await failure(authenticator.authenticate(`Bearer ${old}`, github));

    // Assert
    expect(remembered).toMatchObject({ kind: github, repository: REPOSITORY });
    expect(verifiedAgain).toBeInstanceOf(AuthenticationError);
    expect((verifiedAgain as AuthenticationError).reason).toBe('unknown_key');
  });

  it('never answers a token from memory past its expiry', async () => {
    // Arrange
    const issuer = await startIssuer();
    const clock = testClock();
    const authenticator = authenticatorTrusting(issuer, {
      clockToleranceSeconds: 0,
      verifiedTokenMaxAgeMs: 3_600_000,
      now: clock.now,
    });
    const token = await issuer.sign({
      kind: github,
      repository: REPOSITORY,
      audience: GITHUB_AUDIENCE,
      ttlSeconds: 120,
    });
    await authenticator.authenticate(`Bearer ${token}`, github);

    // Act
    clock.advanceSeconds(60);
    const beforeExpiry = await authenticator.authenticate(`Bearer ${token}`, github);
    clock.advanceSeconds(61);
    const afterExpiry = await failure(authenticator.authenticate(`Bearer ${token}`, github));

    // Assert
    expect(beforeExpiry).toMatchObject({ repository: REPOSITORY });
    expect(afterExpiry).toBeInstanceOf(AuthenticationError);
    expect((afterExpiry as AuthenticationError).reason).toBe('expired');
  });

  it("still applies the route's checks to a token it remembers", async () => {
    // Arrange
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer, {
      allowedServiceSubjects: ['system:serviceaccount:forge:*'],
    });
    const token = await issuer.sign({
      kind: PrincipalKind.service,
      subject: 'system:serviceaccount:forge:worker',
      audience: SERVICE_AUDIENCE,
      ttlSeconds: 600,
    });
    await authenticator.authenticate(`Bearer ${token}`, PrincipalKind.service);

    // Act
    const onPublicRoute = await failure(authenticator.authenticate(`Bearer ${token}`, github));
    const onInternalRoute = await authenticator.authenticate(
      `Bearer ${token}`,
      PrincipalKind.service,
    );

    // Assert
    expect(onPublicRoute).toBeInstanceOf(AuthorizationError);
    expect((onPublicRoute as AuthorizationError).reason).toBe('wrong_principal_kind');
    expect(onInternalRoute).toMatchObject({ subject: 'system:serviceaccount:forge:worker' });
  });

  it('gives every concurrent request of one token the outcome of a single verification', async () => {
    // Arrange
    const issuer = await startIssuer();
    const authenticator = authenticatorTrusting(issuer, { clockToleranceSeconds: 0 });
    const valid = await issuer.sign({
      kind: github,
      repository: REPOSITORY,
      audience: GITHUB_AUDIENCE,
      ttlSeconds: 600,
    });
    const expired = await issuer.sign({
      kind: github,
      repository: REPOSITORY,
      audience: GITHUB_AUDIENCE,
      ttlSeconds: 60,
      issuedAt: new Date(Date.now() - 120_000),
    });

    // Act
    const accepted = await Promise.all(
      Array.from({ length: 20 }, () => authenticator.authenticate(`Bearer ${valid}`, github)),
    );
    const refused = await Promise.all(
      Array.from({ length: 20 }, () =>
        failure(authenticator.authenticate(`Bearer ${expired}`, github)),
      ),
    );

    // Assert
    for (const principal of accepted) {
      expect(principal).toMatchObject({ kind: github, repository: REPOSITORY });
    }
    expect(refused.map((error) => (error as AuthenticationError).reason)).toEqual(
      Array.from({ length: 20 }, () => 'expired'),
    );
    expect(issuer.requestCounts()).toEqual({ discovery: 1, jwks: 1 });
  });
});
