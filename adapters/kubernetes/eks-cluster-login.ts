import {
  DescribeClusterCommand,
  EKSClient,
  ResourceNotFoundException,
  type Cluster,
} from '@aws-sdk/client-eks';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { CustomObjectsApi, KubeConfig, type User } from '@kubernetes/client-node';
import { sdkClientConfig } from '../aws/aws-client-config.js';
import { errorMessage } from '../../core/errors.js';
import { isTransientError } from '../../core/retry.js';
import {
  WorkflowEngineRejectedError,
  WorkflowEngineUnavailableError,
  type WorkflowError,
} from '../../core/workflow/workflow-errors.js';
import { signEksToken, type AwsCredentials } from './eks-token.js';

/** How long a token is used: EKS accepts one for 15 minutes, so this leaves 5 to spare. */
export const EKS_TOKEN_REUSE_MS = 10 * 60_000;
/** A token is renewed at least this long before the credentials that signed it expire. */
const CREDENTIALS_EXPIRY_MARGIN_MS = 60_000;
/** The kubeconfig user whose requests carry the EKS token. */
const EKS_AUTH_PROVIDER = 'forge-eks-token';

/** Options of {@link EksClusterLogin}. */
export interface EksClusterLoginOptions {
  /** The EKS cluster's name (`FORGE_KUBE_CLUSTER_NAME`). */
  readonly clusterName: string;
  /** Asks EKS for the cluster's endpoint and certificate authority; its region is the cluster's. */
  readonly eks: EKSClient;
  /** The identity the token proves (the function's role); resolved again for each new token. */
  readonly credentials: () => Promise<AwsCredentials>;
  /** An API server URL to call instead of the endpoint EKS reports (`FORGE_KUBE_API_URL`). */
  readonly endpoint?: string | undefined;
  /** The clock, in epoch milliseconds; tests move it. */
  readonly now?: () => number;
  /** How long one token is used before a new one is signed; default {@link EKS_TOKEN_REUSE_MS}. */
  readonly tokenReuseMs?: number;
}

/** Where the cluster's API server is and the certificate authority it presents. */
interface ClusterEndpoint {
  readonly server: string;
  /** Base64 PEM, as `certificate-authority-data` in a kubeconfig. */
  readonly caData: string;
}

/**
 * Logs in to the Kubernetes API of an EKS cluster the way `aws eks get-token` does, for a
 * process with no kubeconfig and no service-account token (the API on Lambda):
 *
 * - the endpoint and certificate authority come from EKS `DescribeCluster`, asked once (per
 *   Lambda cold start) and kept; a failed attempt is asked again on the next use;
 * - each request carries a bearer token signed with the process's AWS credentials (see
 *   `signEksToken`); a token is reused for {@link EKS_TOKEN_REUSE_MS} (or until shortly before
 *   its credentials expire), then a new one is signed on the next request.
 *
 * Failures are the workflow error family: throttling, 5xx and network failures are
 * `WorkflowEngineUnavailableError` (retryable); an unknown cluster, a denied `DescribeCluster`
 * or missing credentials are `WorkflowEngineRejectedError`, naming the cluster. The cluster's
 * RBAC decides what the identity may do (docs/deploy.md).
 */
export class EksClusterLogin {
  readonly #options: EksClusterLoginOptions;
  readonly #now: () => number;
  readonly #tokenReuseMs: number;
  #api: Promise<CustomObjectsApi> | undefined;
  #token: { readonly value: string; readonly renewAt: number } | undefined;
  #signing: Promise<string> | undefined;

  constructor(options: EksClusterLoginOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#tokenReuseMs = options.tokenReuseMs ?? EKS_TOKEN_REUSE_MS;
  }

  /**
   * A login with the SDK's defaults: the region and credentials of the environment (on Lambda,
   * `AWS_REGION` and the function's role). Makes no request.
   */
  static forCluster(clusterName: string, endpoint?: string): EksClusterLogin {
    return new EksClusterLogin({
      clusterName,
      endpoint,
      eks: new EKSClient(sdkClientConfig()),
      credentials: defaultProvider(),
    });
  }

  /** The cluster's name, for messages. */
  get clusterName(): string {
    return this.#options.clusterName;
  }

  /**
   * The custom objects API of the cluster, built once from `DescribeCluster`'s answer; every
   * request it sends asks {@link EksClusterLogin.token} for its bearer token.
   */
  customObjectsApi(): Promise<CustomObjectsApi> {
    this.#api ??= this.#connect().catch((error: unknown) => {
      this.#api = undefined;
      throw error;
    });
    return this.#api;
  }

  /** The current bearer token: the kept one while it is young enough, else a new one. */
  async token(): Promise<string> {
    if (this.#token !== undefined && this.#now() < this.#token.renewAt) return this.#token.value;
    this.#signing ??= this.#sign().finally(() => {
      this.#signing = undefined;
    });
    return this.#signing;
  }

  async #sign(): Promise<string> {
    const { clusterName, eks } = this.#options;
    let credentials: AwsCredentials;
    try {
      credentials = await this.#options.credentials();
    } catch (error) {
      throw loginError(
        error,
        `could not get AWS credentials to log in to EKS cluster ${clusterName}`,
      );
    }
    const signedAt = this.#now();
    const value = await signEksToken({
      clusterName,
      region: await eks.config.region(),
      credentials,
      signingDate: new Date(signedAt),
    });
    const expiration = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    const renewAt = Math.min(
      signedAt + this.#tokenReuseMs,
      expiration - CREDENTIALS_EXPIRY_MARGIN_MS,
    );
    this.#token = { value, renewAt };
    return value;
  }

  async #connect(): Promise<CustomObjectsApi> {
    const { server, caData } = await this.#describe();
    const config = new KubeConfig();
    config.addAuthenticator({
      isAuthProvider: (user: User) =>
        (user.authProvider as { name?: unknown } | undefined)?.name === EKS_AUTH_PROVIDER,
      applyAuthentication: async (_user, options) => {
        options.headers = { ...options.headers, Authorization: `Bearer ${await this.token()}` };
      },
    });
    const name = this.#options.clusterName;
    config.loadFromOptions({
      clusters: [{ name, server, caData, skipTLSVerify: isPlainLoopback(server) }],
      users: [{ name, authProvider: { name: EKS_AUTH_PROVIDER } }],
      contexts: [{ name, cluster: name, user: name }],
      currentContext: name,
    });
    return config.makeApiClient(CustomObjectsApi);
  }

  async #describe(): Promise<ClusterEndpoint> {
    const { clusterName, eks } = this.#options;
    let cluster: Cluster | undefined;
    try {
      ({ cluster } = await eks.send(new DescribeClusterCommand({ name: clusterName })));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        throw new WorkflowEngineRejectedError(
          `EKS cluster ${clusterName} does not exist in ${await eks.config.region()}: ` +
            'check FORGE_KUBE_CLUSTER_NAME and AWS_REGION',
          404,
          { cause: error },
        );
      }
      throw loginError(error, `could not describe EKS cluster ${clusterName}`);
    }
    const server = this.#options.endpoint ?? cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (server === undefined || caData === undefined || caData === '') {
      throw new WorkflowEngineUnavailableError(
        `EKS cluster ${clusterName} has no API endpoint or certificate authority yet ` +
          `(status ${cluster?.status ?? 'unknown'})`,
      );
    }
    if (!server.startsWith('https://') && !isPlainLoopback(server)) {
      throw new WorkflowEngineRejectedError(
        `the API endpoint of EKS cluster ${clusterName} is not https: ${server}`,
        undefined,
      );
    }
    return { server, caData };
  }
}

/**
 * Whether `server` is plain HTTP on this machine (a stand-in API server in tests): there is no
 * TLS to verify there. Every other endpoint must be https, verified against the cluster's CA.
 */
function isPlainLoopback(server: string): boolean {
  try {
    const url = new URL(server);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

/** A failure of EKS, STS credentials or the network, as a workflow error. */
function loginError(error: unknown, attempted: string): WorkflowError {
  const message = `${attempted}: ${errorMessage(error)}`;
  return isTransientError(error)
    ? new WorkflowEngineUnavailableError(message, { cause: error })
    : new WorkflowEngineRejectedError(message, httpStatus(error), { cause: error });
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata as { httpStatusCode?: unknown } | undefined;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}
