import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../config/environment.js';
import { loadStageConfig } from '../../stacks/stage-config.js';

const REQUIRED = {
  FORGE_EKS_CLUSTER_NAME: 'forge-staging',
  FORGE_SERVICE_OIDC_ISSUER: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF/',
  FORGE_DISPATCHER_IMAGE: 'registry.example.com/forge:dispatcher',
};

describe('stage configuration', () => {
  it('applies the defaults and derives what the stacks need from the issuer', () => {
    // Arrange, Act
    const config = loadStageConfig('staging', REQUIRED);

    // Assert
    expect(config).toMatchObject({
      stage: 'staging',
      retainData: false,
      cluster: {
        name: 'forge-staging',
        apiUrl: undefined,
        oidcIssuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
        oidcIssuerHost: 'oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
        oidcProviderArn: undefined,
        namespace: 'forge',
        kedaServiceAccount: { namespace: 'keda', name: 'keda-operator' },
        accessEntry: true,
      },
      githubAudience: 'catalyst-forge',
      serviceAudience: 'forge-pipeline',
      ciSecretsPrefix: 'forge/staging/ci/',
      lambdaNetwork: undefined,
    });
    expect(loadStageConfig('production', REQUIRED).retainData).toBe(true);
  });

  it('names the variable that is missing or bad', () => {
    // Arrange
    const { FORGE_DISPATCHER_IMAGE: _image, ...withoutImage } = REQUIRED;

    // Act, Assert
    expect(() => loadStageConfig('staging', withoutImage)).toThrow(
      expect.objectContaining({ variable: 'FORGE_DISPATCHER_IMAGE' }),
    );
    expect(() =>
      loadStageConfig('staging', {
        ...REQUIRED,
        FORGE_KUBE_API_URL: 'http://insecure.example.com',
      }),
    ).toThrow(ConfigurationError);
    expect(() =>
      loadStageConfig('staging', { ...REQUIRED, FORGE_LAMBDA_SUBNET_IDS: 'subnet-1' }),
    ).toThrow(expect.objectContaining({ variable: 'FORGE_LAMBDA_SECURITY_GROUP_IDS' }));
  });
});
