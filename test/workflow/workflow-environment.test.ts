/** The workflow engine's `FORGE_` variables: defaults, parsing, and errors naming the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../config/environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';

const IMAGE = 'registry.example.com/forge/dispatcher:1.4.2';

describe('loadWorkflowConfig', () => {
  it('defaults to the embedded engine and renders nothing without a dispatcher image', () => {
    const config = loadWorkflowConfig({});

    expect(config).toEqual({ engine: 'embedded', argoUiUrl: undefined, argo: undefined });
  });

  it('gives Argo its defaults once the dispatcher image is set', () => {
    const config = loadWorkflowConfig({ FORGE_ENGINE: 'argo', FORGE_DISPATCHER_IMAGE: IMAGE });

    expect(config).toEqual({
      engine: 'argo',
      argoUiUrl: undefined,
      argo: {
        settings: {
          namespace: 'forge',
          dispatcherImage: IMAGE,
          imagePullPolicy: 'IfNotPresent',
          serviceAccountName: 'forge-dispatcher',
          dispatcherConfigMap: 'forge-dispatcher-config',
          dispatcherSecret: undefined,
          nodeSelector: {},
          tolerations: [],
        },
        kubernetes: { kubeconfig: undefined, context: undefined },
      },
    });
  });

  it('reads every variable', () => {
    const config = loadWorkflowConfig({
      FORGE_ENGINE: 'argo',
      FORGE_ARGO_NAMESPACE: 'ci',
      FORGE_ARGO_UI_URL: 'https://argo.example.com',
      FORGE_DISPATCHER_IMAGE: IMAGE,
      FORGE_DISPATCHER_IMAGE_PULL_POLICY: 'Always',
      FORGE_DISPATCHER_SERVICE_ACCOUNT: 'dispatcher',
      FORGE_DISPATCHER_CONFIG_MAP: 'dispatcher-env',
      FORGE_DISPATCHER_SECRET: 'dispatcher-secrets',
      FORGE_DISPATCHER_NODE_SELECTOR: 'pool=dispatchers, disk=ssd',
      FORGE_DISPATCHER_TOLERATIONS:
        '[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]',
      FORGE_KUBECONFIG: '/etc/forge/kubeconfig',
      FORGE_KUBE_CONTEXT: 'prod',
    });

    expect(config.argoUiUrl).toBe('https://argo.example.com');
    expect(config.argo).toEqual({
      settings: {
        namespace: 'ci',
        dispatcherImage: IMAGE,
        imagePullPolicy: 'Always',
        serviceAccountName: 'dispatcher',
        dispatcherConfigMap: 'dispatcher-env',
        dispatcherSecret: 'dispatcher-secrets',
        nodeSelector: { pool: 'dispatchers', disk: 'ssd' },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      },
      kubernetes: { kubeconfig: '/etc/forge/kubeconfig', context: 'prod' },
    });
  });

  it.each([
    ['FORGE_ENGINE', { FORGE_ENGINE: 'kubernetes' }],
    ['FORGE_DISPATCHER_IMAGE', { FORGE_ENGINE: 'argo' }],
    ['FORGE_ARGO_NAMESPACE', { FORGE_ARGO_NAMESPACE: 'CI_Namespace' }],
    ['FORGE_ARGO_UI_URL', { FORGE_ARGO_UI_URL: 'argo.example.com' }],
    ['FORGE_DISPATCHER_IMAGE_PULL_POLICY', { FORGE_DISPATCHER_IMAGE_PULL_POLICY: 'Sometimes' }],
    ['FORGE_DISPATCHER_NODE_SELECTOR', { FORGE_DISPATCHER_NODE_SELECTOR: 'pool' }],
    ['FORGE_DISPATCHER_TOLERATIONS', { FORGE_DISPATCHER_TOLERATIONS: '{"key":' }],
    ['FORGE_DISPATCHER_TOLERATIONS', { FORGE_DISPATCHER_TOLERATIONS: '[{"effect":"Never"}]' }],
    ['FORGE_KUBE_CONTEXT', { FORGE_KUBE_CONTEXT: 'prod' }],
  ])('names %s when its value is bad or missing', (variable, env) => {
    const loading = () => loadWorkflowConfig(env);

    expect(loading).toThrow(ConfigurationError);
    expect(loading).toThrow(new RegExp(`^${variable}: `));
  });
});
