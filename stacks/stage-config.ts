import { z } from 'zod';
import { ConfigurationError, parseEnvironment } from '../config/environment.js';

const list = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);
const kubernetesName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes name (lower-case, digits, -)');

/** Stages whose data outlives `sst remove`: table, buckets and secrets are retained. */
export const PRODUCTION_STAGES: readonly string[] = ['prod', 'production'];

/**
 * The `FORGE_` variables `sst deploy`, `sst dev` and `npm run synth` read to build a stage (SST
 * also loads them from `.env.<stage>`); docs/deploy.md and docs/configuration.md document each.
 * They describe what the stacks cannot create themselves: the EKS cluster and its OIDC issuer,
 * the dispatcher image, the network the functions reach Postgres through.
 */
export const StageEnvironmentSchema = z.object({
  /** The EKS cluster that runs Argo, the dispatchers and the worker pools. */
  FORGE_EKS_CLUSTER_NAME: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]*$/),
  /**
   * An API server URL for the API function to call instead of the endpoint `DescribeCluster`
   * reports (a private DNS name, a proxy); unset, the reported one.
   */
  FORGE_KUBE_API_URL: z.url({ protocol: /^https$/ }).optional(),
  /** Its OIDC issuer (`https://oidc.eks.<region>.amazonaws.com/id/<id>`). */
  FORGE_SERVICE_OIDC_ISSUER: z.url({ protocol: /^https$/ }),
  /** The IAM OIDC provider of that issuer; derived from the issuer and the account when unset. */
  FORGE_EKS_OIDC_PROVIDER_ARN: z.string().startsWith('arn:').optional(),
  /**
   * Whether the stack maps the API function's role into the cluster with an EKS access entry;
   * `false` for clusters authenticating through the `aws-auth` ConfigMap only.
   */
  FORGE_EKS_ACCESS_ENTRY: z.enum(['true', 'false']).default('true'),
  /** Audience the API expects in service-account tokens of internal callers. */
  FORGE_SERVICE_OIDC_AUDIENCE: z.string().min(1).default('forge-pipeline'),
  /** Audience the API expects in GitHub Actions OIDC tokens (the trigger action's `audience`). */
  FORGE_GITHUB_OIDC_AUDIENCE: z.string().min(1).default('catalyst-forge'),
  /** Namespace of the dispatchers, the worker pools and the Workflows. */
  FORGE_ARGO_NAMESPACE: kubernetesName.default('forge'),
  /** Image the Workflows run dispatchers from (`deploy/docker/Dockerfile`, target `dispatcher`). */
  FORGE_DISPATCHER_IMAGE: z.string().min(1),
  /** Base URL of the Argo UI, for links from GitHub statuses; none when unset. */
  FORGE_ARGO_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** KEDA operator's service account (`namespace:name`), trusted by the queue scaler role. */
  FORGE_KEDA_SERVICE_ACCOUNT: z
    .string()
    .regex(/^[a-z0-9-]+:[a-z0-9-]+$/, 'must be namespace:name')
    .default('keda:keda-operator'),
  /** Name prefix of the Secrets Manager secrets steps may read; `forge/<stage>/ci/` when unset. */
  FORGE_CI_SECRETS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]+$/)
    .optional(),
  /** Subnets (comma-separated) the API and the reconciler run in, to reach Postgres. */
  FORGE_LAMBDA_SUBNET_IDS: list.default([]),
  /** Security groups (comma-separated) of those functions; required with subnets. */
  FORGE_LAMBDA_SECURITY_GROUP_IDS: list.default([]),
});

/** One stage's configuration, as the stacks take it. */
export interface StageConfig {
  readonly stage: string;
  /** Whether table, buckets and secrets are retained when the stage is removed. */
  readonly retainData: boolean;
  readonly cluster: {
    readonly name: string;
    /** `undefined`: the API function uses the endpoint `DescribeCluster` reports. */
    readonly apiUrl: string | undefined;
    /** The issuer URL without `https://`, as IAM condition keys name it. */
    readonly oidcIssuerHost: string;
    readonly oidcIssuerUrl: string;
    /** `undefined`: derived in the stack from the account. */
    readonly oidcProviderArn: string | undefined;
    readonly namespace: string;
    readonly kedaServiceAccount: { readonly namespace: string; readonly name: string };
    /** Whether an access entry maps the API function's role to the Workflow submitters. */
    readonly accessEntry: boolean;
  };
  readonly serviceAudience: string;
  readonly githubAudience: string;
  readonly dispatcherImage: string;
  readonly argoUiUrl: string | undefined;
  readonly ciSecretsPrefix: string;
  readonly lambdaNetwork:
    | { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] }
    | undefined;
}

/**
 * Reads a stage's configuration once from `env`; a missing or bad variable is a
 * `ConfigurationError` naming it, before anything is synthesized.
 */
export function loadStageConfig(stage: string, env: NodeJS.ProcessEnv = process.env): StageConfig {
  const parsed = parseEnvironment(StageEnvironmentSchema, env);
  const subnets = parsed.FORGE_LAMBDA_SUBNET_IDS;
  const securityGroups = parsed.FORGE_LAMBDA_SECURITY_GROUP_IDS;
  if ((subnets.length === 0) !== (securityGroups.length === 0)) {
    throw new ConfigurationError(
      subnets.length === 0 ? 'FORGE_LAMBDA_SUBNET_IDS' : 'FORGE_LAMBDA_SECURITY_GROUP_IDS',
      'set FORGE_LAMBDA_SUBNET_IDS and FORGE_LAMBDA_SECURITY_GROUP_IDS together, or neither',
    );
  }
  const [kedaNamespace, kedaName] = parsed.FORGE_KEDA_SERVICE_ACCOUNT.split(':') as [
    string,
    string,
  ];
  const issuer = parsed.FORGE_SERVICE_OIDC_ISSUER.replace(/\/+$/, '');
  return {
    stage,
    retainData: PRODUCTION_STAGES.includes(stage),
    cluster: {
      name: parsed.FORGE_EKS_CLUSTER_NAME,
      apiUrl: parsed.FORGE_KUBE_API_URL,
      oidcIssuerUrl: issuer,
      oidcIssuerHost: issuer.replace(/^https:\/\//, ''),
      oidcProviderArn: parsed.FORGE_EKS_OIDC_PROVIDER_ARN,
      namespace: parsed.FORGE_ARGO_NAMESPACE,
      kedaServiceAccount: { namespace: kedaNamespace, name: kedaName },
      accessEntry: parsed.FORGE_EKS_ACCESS_ENTRY === 'true',
    },
    serviceAudience: parsed.FORGE_SERVICE_OIDC_AUDIENCE,
    githubAudience: parsed.FORGE_GITHUB_OIDC_AUDIENCE,
    dispatcherImage: parsed.FORGE_DISPATCHER_IMAGE,
    argoUiUrl: parsed.FORGE_ARGO_UI_URL,
    ciSecretsPrefix: parsed.FORGE_CI_SECRETS_PREFIX ?? `forge/${stage}/ci/`,
    lambdaNetwork:
      subnets.length === 0 ? undefined : { subnetIds: subnets, securityGroupIds: securityGroups },
  };
}
