/**
 * How this product builds AWS SDK clients. In production every field is left unset and the
 * SDK reads its own variables (`AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`, credentials), so
 * the same build talks to AWS or, with those variables set, to local emulators.
 */
export interface AwsClientConfig {
  readonly region?: string;
  /** An explicit endpoint, for tests that start emulators themselves. */
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The settings every SDK client of this product shares, applied over `config`. */
export function sdkClientConfig(config: AwsClientConfig = {}) {
  return {
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    // Retries belong to the callers, which know whether an operation is safe to repeat.
    maxAttempts: 1,
  };
}
