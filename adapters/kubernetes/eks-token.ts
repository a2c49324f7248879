import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** What every EKS bearer token starts with, before the base64url of its presigned URL. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster; it is part of the signature. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/**
 * `X-Amz-Expires` of the presigned URL, as `aws eks get-token` sets it. STS ignores it for
 * `GetCallerIdentity`: EKS accepts a token until 15 minutes after its `X-Amz-Date`.
 */
export const PRESIGNED_URL_EXPIRES_SECONDS = 60;

/** AWS credentials, as the SDK's credential providers resolve them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** When temporary credentials stop working; a token signed with them stops too. */
  readonly expiration?: Date | undefined;
}

/** What {@link signEksToken} signs. */
export interface EksTokenRequest {
  readonly clusterName: string;
  /** The region of the cluster, whose regional STS endpoint the URL names. */
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** The token's `X-Amz-Date`: EKS accepts it for 15 minutes from then. */
  readonly signingDate: Date;
}

/**
 * A bearer token for the Kubernetes API of an EKS cluster, made as `aws eks get-token` makes
 * it: a `GetCallerIdentity` request to the region's STS endpoint, presigned (SigV4, query
 * parameters) with `credentials` and with the header `x-k8s-aws-id: <cluster>` among the signed
 * headers, its URL base64url-encoded without padding after `k8s-aws-v1.`. The cluster's
 * authenticator calls that URL to learn who the caller is, so the token proves the IAM identity
 * without revealing the secret key. Makes no request itself.
 */
export async function signEksToken(request: EksTokenRequest): Promise<string> {
  const hostname = stsHostname(request.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: request.region,
    credentials: request.credentials,
    sha256: NodeSha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: request.clusterName },
    },
    { expiresIn: PRESIGNED_URL_EXPIRES_SECONDS, signingDate: request.signingDate },
  );
  const url = `https://${hostname}/?${queryString(presigned.query ?? {})}`;
  return `${EKS_TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`;
}

/** The regional STS endpoint's host (the China partition has its own domain). */
function stsHostname(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** RFC 3986 query string of the presigned parameters. */
function queryString(query: Record<string, string | (string | null)[] | null>): string {
  return Object.entries(query)
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (item) => `${rfc3986(name)}${item === null ? '' : `=${rfc3986(item)}`}`,
      ),
    )
    .join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** What the signer hashes: text or bytes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 (or, with a secret, HMAC-SHA-256) from node's crypto, in the shape the signer takes. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    this.#hash.update(
      typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : bytesOf(data),
    );
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function bytesOf(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
