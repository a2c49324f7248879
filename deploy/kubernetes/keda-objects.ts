import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * KEDA's `ScaledObject` (keda.sh/v1alpha1), as far as this platform uses it: one Deployment
 * scaled on triggers, with the HPA behaviour KEDA passes through.
 */
export interface ScaledObject {
  readonly apiVersion: 'keda.sh/v1alpha1';
  readonly kind: 'ScaledObject';
  readonly metadata: V1ObjectMeta;
  readonly spec: {
    readonly scaleTargetRef: { readonly name: string };
    readonly minReplicaCount: number;
    readonly maxReplicaCount: number;
    readonly pollingInterval: number;
    readonly advanced: {
      readonly horizontalPodAutoscalerConfig: {
        readonly behavior: {
          readonly scaleUp: {
            readonly policies: readonly {
              readonly type: 'Pods' | 'Percent';
              readonly value: number;
              readonly periodSeconds: number;
            }[];
          };
          readonly scaleDown: { readonly stabilizationWindowSeconds: number };
        };
      };
    };
    readonly triggers: readonly {
      readonly type: string;
      readonly metadata: Readonly<Record<string, string>>;
      readonly authenticationRef: { readonly name: string };
    }[];
  };
}

/** KEDA's `TriggerAuthentication` with AWS pod identity (IRSA) and a role to assume. */
export interface TriggerAuthentication {
  readonly apiVersion: 'keda.sh/v1alpha1';
  readonly kind: 'TriggerAuthentication';
  readonly metadata: V1ObjectMeta;
  readonly spec: {
    readonly podIdentity: { readonly provider: 'aws'; readonly roleArn: string };
  };
}
