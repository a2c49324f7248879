import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Where signed blob URLs live: `/blobs/<bucket>/<key>?expires=<unix seconds>&signature=<hmac>`. */
export const BLOB_URL_PATH_PREFIX = '/blobs/';

/** Options of {@link BlobUrlSigner}. */
export interface BlobUrlSignerOptions {
  /** The HMAC key; default 32 random bytes, so URLs die with the process that signed them. */
  readonly secret?: Uint8Array;
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** What a request for a signed blob URL names, once its signature and expiry hold. */
export type VerifiedBlobRequest =
  | { readonly outcome: 'valid'; readonly bucket: string; readonly key: string }
  | { readonly outcome: 'forbidden'; readonly reason: string }
  | { readonly outcome: 'not-a-blob-url' };

/**
 * Signs and checks the embedded mode's presigned blob URLs, the stand-in for S3's: the URL
 * carries its expiry and an HMAC-SHA256 over bucket, key and expiry, so changing any of them,
 * or using the URL after it expired, is refused. Paths are relative, so the URL works on any
 * server that mounts the blob request handler at {@link BLOB_URL_PATH_PREFIX}.
 */
export class BlobUrlSigner {
  readonly #secret: Uint8Array;
  readonly #now: () => number;

  constructor(options: BlobUrlSignerOptions = {}) {
    this.#secret = options.secret ?? randomBytes(32);
    this.#now = options.now ?? Date.now;
  }

  /** `/blobs/<bucket>/<key>?expires=...&signature=...`, valid for `expiresInSeconds`. */
  signedPath(bucket: string, key: string, expiresInSeconds: number): string {
    const expires = String(Math.floor(this.#now() / 1000) + expiresInSeconds);
    const path = [bucket, ...key.split('/')].map(encodeURIComponent).join('/');
    const query = new URLSearchParams({ expires, signature: this.#sign(bucket, key, expires) });
    return `${BLOB_URL_PATH_PREFIX}${path}?${query.toString()}`;
  }

  /** Checks a request's path and query (`request.url`). */
  verify(requestUrl: string): VerifiedBlobRequest {
    const url = new URL(requestUrl, 'http://localhost');
    if (!url.pathname.startsWith(BLOB_URL_PATH_PREFIX)) return { outcome: 'not-a-blob-url' };
    const names = decodeSegments(url.pathname.slice(BLOB_URL_PATH_PREFIX.length));
    const expires = url.searchParams.get('expires') ?? '';
    const signature = url.searchParams.get('signature') ?? '';
    if (names === undefined || names.length < 2 || !/^\d{1,12}$/.test(expires)) {
      return { outcome: 'forbidden', reason: 'not a signed blob URL' };
    }
    const [bucket = '', ...keySegments] = names;
    const key = keySegments.join('/');
    const expected = Buffer.from(this.#sign(bucket, key, expires), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
      return { outcome: 'forbidden', reason: 'the signature does not match' };
    }
    if (Math.floor(this.#now() / 1000) > Number(expires)) {
      return { outcome: 'forbidden', reason: 'the URL has expired' };
    }
    return { outcome: 'valid', bucket, key };
  }

  #sign(bucket: string, key: string, expires: string): string {
    return createHmac('sha256', this.#secret)
      .update(JSON.stringify([bucket, key, expires]))
      .digest('base64url');
  }
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}
