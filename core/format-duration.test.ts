import { describe, expect, it } from 'vitest';
import { DurationStyle, formatDuration } from './format-duration.js';

describe('formatDuration in minutes and seconds (GitHub texts)', () => {
  it.each([
    [0, '0m 0s'],
    [59_499, '0m 59s'],
    [59_500, '1m 0s'],
    [205_400, '3m 25s'],
    [727_600, '12m 8s'],
    [3_600_000, '1h 0m 0s'],
    [3_723_000, '1h 2m 3s'],
  ])('writes %i ms as %j', (milliseconds, text) => {
    expect(formatDuration(milliseconds, DurationStyle.minutesAndSeconds)).toBe(text);
  });

  it('reads a negative duration (clocks apart) as zero', () => {
    expect(formatDuration(-2500, DurationStyle.minutesAndSeconds)).toBe('0m 0s');
  });
});

describe('formatDuration compact (command line)', () => {
  it.each([
    [0, '0ms'],
    [849.6, '850ms'],
    [1000, '1.0s'],
    [4_230, '4.2s'],
    [59_900, '59.9s'],
    [65_000, '1m 05s'],
    [185_000, '3m 05s'],
    [3_599_000, '59m 59s'],
    [3_599_600, '1h 00m'],
    [3_720_000, '1h 02m'],
    [36_000_000, '10h 00m'],
  ])('writes %i ms as %j', (milliseconds, text) => {
    expect(formatDuration(milliseconds, DurationStyle.compact)).toBe(text);
  });
});

describe('formatDuration styles', () => {
  it('writes the same duration differently in each style', () => {
    const texts = Object.values(DurationStyle).map((style) => formatDuration(65_000, style));

    expect(texts).toEqual(['1m 5s', '1m 05s']);
  });

  it('throws for a style it does not know', () => {
    expect(() => formatDuration(1000, 'long' as DurationStyle)).toThrow(/duration style/);
  });
});
