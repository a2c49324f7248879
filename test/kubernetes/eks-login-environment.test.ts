/** The variables that select the EKS login of the Argo engine, and what they may be combined with. */
import { describe, expect, it } from 'vitest';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';

const ARGO = { FORGE_ENGINE: 'argo', FORGE_DISPATCHER_IMAGE: 'registry.example.com/forge:1' };
const API_URL = 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com';

describe('the EKS login in the workflow configuration', () => {
  it('logs in to the named EKS cluster, with the API URL that replaces its endpoint', () => {
    // Arrange
    const env = { ...ARGO, FORGE_KUBE_CLUSTER_NAME: 'forge-staging', FORGE_KUBE_API_URL: API_URL };

    // Act
    const config = loadWorkflowConfig(env);

    // Assert
    expect(config.argo?.kubernetes).toEqual({
      kubeconfig: undefined,
      context: undefined,
      eksCluster: { name: 'forge-staging', apiUrl: API_URL },
    });
  });

  it('keeps the kubeconfig or in-cluster login when no cluster is named', () => {
    // Arrange, Act
    const config = loadWorkflowConfig({ ...ARGO, FORGE_KUBECONFIG: '/etc/forge/kubeconfig' });

    // Assert
    expect(config.argo?.kubernetes.eksCluster).toBeUndefined();
    expect(config.argo?.kubernetes.kubeconfig).toBe('/etc/forge/kubeconfig');
  });

  it.each([
    ['FORGE_KUBE_CLUSTER_NAME', { FORGE_KUBE_CLUSTER_NAME: '-starts-with-a-dash' }],
    ['FORGE_KUBE_CLUSTER_NAME', { FORGE_KUBE_CLUSTER_NAME: 'c', FORGE_KUBECONFIG: '/k' }],
    [
      'FORGE_KUBE_API_URL',
      { FORGE_KUBE_CLUSTER_NAME: 'c', FORGE_KUBE_API_URL: 'http://k.example' },
    ],
    ['FORGE_KUBE_API_URL', { FORGE_KUBE_API_URL: API_URL }],
  ])('names %s when it is bad or cannot be combined', (variable, env) => {
    // Arrange, Act
    const loading = () => loadWorkflowConfig({ ...ARGO, ...env });

    // Assert
    expect(loading).toThrow(expect.objectContaining({ variable }));
  });
});
