import { describe, expect, it } from 'vitest';
import { durationSeconds, parseDurationSeconds } from './duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1h1m1s', 3661],
    [' 45s ', 45],
    [45, 45],
    ['10', 10],
  ])('reads %j as %i seconds', (value, seconds) => {
    expect(parseDurationSeconds(value)).toBe(seconds);
  });

  it.each([
    ['an empty text', ''],
    ['a zero as text', '0'],
    ['an unknown unit', '1d'],
    ['a unit without a number', 'm'],
    ['units out of order', '30m1h'],
    ['a zero text', '0s'],
    ['a negative number', -5],
    ['zero', 0],
    ['a fraction', 1.5],
  ])('rejects %s', (_case, value) => {
    expect(parseDurationSeconds(value)).toBeUndefined();
  });
});

describe('durationSeconds', () => {
  it('produces whole seconds', () => {
    expect(durationSeconds.parse('1h30m')).toBe(5400);
    expect(durationSeconds.parse(90)).toBe(90);
  });

  it('explains what a duration looks like when given something else', () => {
    const result = durationSeconds.safeParse('1d');

    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        code: 'custom',
        path: [],
        message:
          '"1d" is not a duration: use whole seconds or a text such as "90s", "30m", "1h30m"',
      }),
    ]);
  });

  it('quotes a rejected number as a number', () => {
    const result = durationSeconds.safeParse(-5);

    expect(result.error?.issues[0]?.message).toBe(
      '-5 is not a duration: use whole seconds or a text such as "90s", "30m", "1h30m"',
    );
  });

  it('rejects a value that is neither text nor number', () => {
    expect(durationSeconds.safeParse(true).success).toBe(false);
  });
});
