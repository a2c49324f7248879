/**
 * The root of every error this product raises on purpose. Each module derives its own root
 * from it (`DiscoveryError`, `RepositoryCacheError`, ...) and names concrete problems as
 * `<Noun><Problem>Error`, so callers can branch on `instanceof` and on {@link ForgeError.retryable}
 * without knowing which backend failed.
 */
export class ForgeError extends Error {
  /** Whether trying the same operation again may succeed (timeouts, throttling, 5xx). */
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** The message of anything thrown, for logs and one-line reasons. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
