import { ForgeError } from '../../core/errors.js';

/** The root of the stream reconciler's own errors. */
export class ReconcileError extends ForgeError {}

/**
 * A change record whose new image is not a job record (a missing or malformed attribute, a
 * binary value): it can never be applied, so retrying cannot help.
 */
export class JobImageError extends ReconcileError {
  constructor(
    readonly eventId: string,
    reason: string,
  ) {
    super(`change record ${eventId} holds no valid job record: ${reason}`);
  }
}
