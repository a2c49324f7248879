import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../config/auth-environment.js';

const awsComplete = {
  FORGE_MODE: 'aws',
  FORGE_GITHUB_OIDC_AUDIENCE: 'https://github.com/input-output-hk',
  FORGE_SERVICE_OIDC_ISSUER: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF/',
  FORGE_SERVICE_OIDC_AUDIENCE: 'catalyst-forge-internal',
};

describe('loadAuthConfig', () => {
  it('trusts the local issuer for both kinds of token in the embedded mode', () => {
    const config = loadAuthConfig({ FORGE_LOCAL_ISSUER_PORT: '9000' });

    expect(config.githubActions).toEqual({
      issuer: 'http://127.0.0.1:9000/github',
      audience: 'catalyst-forge',
    });
    expect(config.service).toEqual({
      issuer: 'http://127.0.0.1:9000/service',
      audience: 'catalyst-forge-internal',
      allowedSubjects: undefined,
    });
    expect(config.localIssuer).toEqual({ directory: '.forge-data/issuer', port: 9000 });
    expect(config.clockToleranceSeconds).toBe(30);
  });

  it('trusts GitHub Actions by default in the aws mode, without trailing slashes', () => {
    const config = loadAuthConfig({
      ...awsComplete,
      FORGE_SERVICE_OIDC_SUBJECTS: 'system:serviceaccount:forge:*, system:serviceaccount:ops:x',
      FORGE_AUTH_CLOCK_TOLERANCE: '1m',
    });

    expect(config.githubActions.issuer).toBe('https://token.actions.githubusercontent.com');
    expect(config.service.issuer).toBe('https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF');
    expect(config.service.allowedSubjects).toEqual([
      'system:serviceaccount:forge:*',
      'system:serviceaccount:ops:x',
    ]);
    expect(config.clockToleranceSeconds).toBe(60);
  });

  it.each([
    'FORGE_GITHUB_OIDC_AUDIENCE',
    'FORGE_SERVICE_OIDC_ISSUER',
    'FORGE_SERVICE_OIDC_AUDIENCE',
  ])('requires %s in the aws mode', (variable) => {
    const { [variable as keyof typeof awsComplete]: _missing, ...incomplete } = awsComplete;

    expect(() => loadAuthConfig(incomplete)).toThrow(new RegExp(`^${variable}: required`));
  });

  it('names a malformed variable', () => {
    expect(() => loadAuthConfig({ FORGE_GITHUB_OIDC_ISSUER: 'not a url' })).toThrow(
      /^FORGE_GITHUB_OIDC_ISSUER: /,
    );
    expect(() => loadAuthConfig({ FORGE_AUTH_CLOCK_TOLERANCE: '10m' })).toThrow(
      /^FORGE_AUTH_CLOCK_TOLERANCE: /,
    );
    expect(() => loadAuthConfig({ FORGE_LOCAL_ISSUER_PORT: '70000' })).toThrow(
      /^FORGE_LOCAL_ISSUER_PORT: /,
    );
  });

  it('refuses one issuer for both kinds of token', () => {
    const issuer = 'https://issuer.example.com';

    expect(() =>
      loadAuthConfig({ FORGE_GITHUB_OIDC_ISSUER: issuer, FORGE_SERVICE_OIDC_ISSUER: issuer }),
    ).toThrow(/^FORGE_SERVICE_OIDC_ISSUER: must differ/);
  });
});
