import { z } from 'zod';
import { ForgeError } from '../core/errors.js';

/** A configuration value is missing or malformed; the process must not start. */
export class ConfigurationError extends ForgeError {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/** A size with an optional binary unit: `1048576`, `512Mi`, `100Gi`, `1Ti`. */
export const byteSize = z.string().transform((text, context) => {
  const match = /^(\d+)\s*(Ki|Mi|Gi|Ti)?B?$/i.exec(text.trim());
  if (!match) {
    context.addIssue({ code: 'custom', message: `"${text}" is not a size such as 512Mi or 100Gi` });
    return z.NEVER;
  }
  const units = { ki: 1, mi: 2, gi: 3, ti: 4 } as const;
  const unit = match[2]?.toLowerCase() as keyof typeof units | undefined;
  return Number(match[1]) * 1024 ** (unit ? units[unit] : 0);
});

/**
 * Parses `env` with a schema whose keys are variable names, once, at a process's start
 * (DESIGN.md section 10). Empty values count as unset, so `FOO=` falls back to the default.
 * The first bad value becomes a {@link ConfigurationError} naming its variable.
 */
export function parseEnvironment<Schema extends z.ZodObject>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.infer<Schema> {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .map((name) => [name, env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  throw new ConfigurationError(variable, issue?.message ?? 'invalid value');
}
