import type {
  V1ConfigMap,
  V1Namespace,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { KubernetesName, StackOutput } from '../../stacks/stack-outputs.js';
import { jobPlaneVariables } from './job-plane-variables.js';
import type { TriggerAuthentication } from './keda-objects.js';
import type { StackOutputs } from './stack-outputs.js';
import { QUEUE_SCALER_AUTHENTICATION } from './worker-pool-manifests.js';

/** The ConfigMap the rendered Workflows' dispatcher pods take their environment from. */
export const DISPATCHER_CONFIG_MAP = 'forge-dispatcher-config';

/** The annotation that gives a service account's pods an IAM role (IRSA). */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** Everything of the platform on the cluster that a platform manifest may be. */
export type PlatformManifest =
  V1Namespace | V1ServiceAccount | V1Role | V1RoleBinding | V1ConfigMap | TriggerAuthentication;

/**
 * What the pools and the Workflows stand on: the namespace; the three service accounts, each
 * annotated with its IAM role from the stack outputs; the RBAC Argo's executor needs in
 * dispatcher pods (`workflowtaskresults` create and patch, Argo 3.4 and later); the RBAC of the
 * group the API function's role is mapped to (create, get and patch Workflows in the namespace,
 * nothing else); the dispatchers' ConfigMap; and the KEDA TriggerAuthentication that reads queue
 * depths with the queue scaler role.
 */
export function platformManifests(outputs: StackOutputs): PlatformManifest[] {
  const namespace = outputs[StackOutput.namespace];
  const labels = { 'app.kubernetes.io/part-of': 'forge' };
  const meta = (name: string) => ({ name, namespace, labels });
  const serviceAccount = (name: string, roleArn: string): V1ServiceAccount => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { ...meta(name), annotations: { [ROLE_ARN_ANNOTATION]: roleArn } },
  });
  const executorRole = 'forge-dispatcher-executor';
  const submitterRole = 'forge-workflow-submitter';
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    serviceAccount(KubernetesName.dispatcherServiceAccount, outputs[StackOutput.dispatcherRoleArn]),
    serviceAccount(
      KubernetesName.discoveryWorkerServiceAccount,
      outputs[StackOutput.discoveryWorkerRoleArn],
    ),
    serviceAccount(KubernetesName.taskWorkerServiceAccount, outputs[StackOutput.taskWorkerRoleArn]),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(executorRole),
      rules: [
        {
          apiGroups: ['argoproj.io'],
          resources: ['workflowtaskresults'],
          verbs: ['create', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(executorRole),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: executorRole },
      subjects: [
        { kind: 'ServiceAccount', name: KubernetesName.dispatcherServiceAccount, namespace },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(submitterRole),
      rules: [
        { apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['create', 'get', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(submitterRole),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: submitterRole },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: outputs[StackOutput.workflowSubmittersGroup],
        },
      ],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(DISPATCHER_CONFIG_MAP),
      data: jobPlaneVariables(outputs),
    },
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: meta(QUEUE_SCALER_AUTHENTICATION),
      spec: { podIdentity: { provider: 'aws', roleArn: outputs[StackOutput.queueScalerRoleArn] } },
    },
  ];
}
