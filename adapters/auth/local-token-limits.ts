/**
 * Limits of the local issuer's tokens, in a module that loads nothing else, so that command
 * lines can check their flags without loading the signer.
 */

/** The longest lifetime of a locally signed token (GitHub's own last at most a few hours). */
export const MAX_LOCAL_TOKEN_TTL_SECONDS = 24 * 3600;
