import { z } from 'zod';

const UNIT_SECONDS = { h: 3600, m: 60, s: 1 } as const;
const DURATION_PATTERN = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Parses a duration as configuration writes it: whole seconds (a number, or digits as text, as
 * environment variables give them), or hours, minutes and seconds such as `"90s"`, `"30m"`,
 * `"1h30m"`. Returns whole seconds, or
 * `undefined` when the text is not a duration.
 */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }
  if (/^\d+$/.test(value.trim())) return parseDurationSeconds(Number(value.trim()));
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match || value.trim() === '') return undefined;
  const [, hours, minutes, seconds] = match;
  const total =
    Number(hours ?? 0) * UNIT_SECONDS.h +
    Number(minutes ?? 0) * UNIT_SECONDS.m +
    Number(seconds ?? 0) * UNIT_SECONDS.s;
  return total > 0 ? total : undefined;
}

/** A zod schema accepting a configured duration and producing whole seconds. */
export const durationSeconds = z.union([z.string(), z.number()]).transform((value, context) => {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    context.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a duration: use whole seconds or a text such as "90s", "30m", "1h30m"`,
    });
    return z.NEVER;
  }
  return seconds;
});
