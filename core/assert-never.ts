import { ForgeError } from './errors.js';

/**
 * Marks the `default` branch of a `switch` that must have handled every member of a union:
 * the call stops compiling when a member is added, and throws if an unchecked value (from a
 * database row or a message) slips through at run time.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new ForgeError(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
