/**
 * Where steps' secrets come from (Secrets Manager in production). Values never reach logs:
 * callers mask them in everything they write.
 */
export interface SecretStore {
  /** The secret's text; throws `SecretNotFoundError` when there is none at `path`. */
  get(path: string): Promise<string>;
}
