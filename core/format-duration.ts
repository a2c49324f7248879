import { assertNever } from './assert-never.js';

/**
 * How {@link formatDuration} writes a duration. The two styles are deliberately different:
 * GitHub texts promise whole minutes and seconds (DESIGN.md section 7), a terminal wants a
 * short cell that still tells 850 ms from 4.2 s.
 */
export const DurationStyle = {
  /**
   * `0m 5s`, `12m 8s`, `1h 2m 3s`: rounded to the second, minutes always shown, negative
   * durations read as zero. The commit status ("Pipeline succeeded in 3m 25s") and the pull
   * request summary use it.
   */
  minutesAndSeconds: 'minutes-and-seconds',
  /**
   * `850ms`, `4.2s`, `3m 05s`, `1h 02m`: the unit that fits, seconds and minutes padded to two
   * digits under a larger unit. The command line's progress lines and run summary use it.
   */
  compact: 'compact',
} as const;
/** One of {@link DurationStyle}. */
export type DurationStyle = (typeof DurationStyle)[keyof typeof DurationStyle];

/**
 * A duration in milliseconds as text in `style`, so every part of the product that shows how
 * long something took writes it the same way.
 */
export function formatDuration(milliseconds: number, style: DurationStyle): string {
  switch (style) {
    case DurationStyle.minutesAndSeconds:
      return minutesAndSeconds(milliseconds);
    case DurationStyle.compact:
      return compact(milliseconds);
    default:
      return assertNever(style, 'duration style');
  }
}

function minutesAndSeconds(milliseconds: number): string {
  const total = Math.round(Math.max(0, milliseconds) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours > 0 ? `${hours}h ${minutes}m ${seconds}s` : `${minutes}m ${seconds}s`;
}

function compact(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)}s`;
  const seconds = Math.round(milliseconds / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${twoDigits(seconds % 60)}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h ${twoDigits(minutes % 60)}m`;
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}
