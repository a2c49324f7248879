import type { z } from 'zod';
import { JobPlaneError } from './job-plane-errors.js';

/** Options given to a job-plane adapter or decorator are invalid; the message names the option. */
export class JobPlaneOptionsError extends JobPlaneError {}

/**
 * Validates `options` against `schema` once, at construction, applying its defaults; a bad value
 * throws {@link JobPlaneOptionsError} naming `subject` and the option (`S3BlobStore option
 * flushIntervalMs: ...`).
 */
export function parseJobPlaneOptions<Schema extends z.ZodType>(
  subject: string,
  schema: Schema,
  options: unknown,
): z.output<Schema> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path.join('.') || 'options';
  throw new JobPlaneOptionsError(`${subject} option ${name}: ${issue?.message ?? 'invalid'}`);
}
