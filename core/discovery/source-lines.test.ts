import { describe, expect, it } from 'vitest';
import { lineAt, lineOfKeyPath } from './source-lines.js';

/** Lines joined into a file, so a test reads like the configuration it is about. */
function file(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

describe('lineAt', () => {
  const source = 'first\nsecond\n\nfourth';

  it.each([
    [0, 1],
    [5, 1],
    [6, 2],
    [13, 3],
    [14, 4],
    [source.length - 1, 4],
  ])('puts index %i on line %i', (index, line) => {
    expect(lineAt(source, index)).toBe(line);
  });

  it('puts an index past the end on the last line', () => {
    expect(lineAt(source, 1000)).toBe(4);
  });
});

describe('lineOfKeyPath', () => {
  it('finds a nested key written in long form', () => {
    const source = file(
      'package project',
      '',
      'name: "web"',
      'ci: {',
      '\tphases: {',
      '\t\ttest: {',
      '\t\t\tunit: {',
      '\t\t\t\tactoin: "shell"',
      '\t\t\t}',
      '\t\t}',
      '\t}',
      '}',
    );

    expect(lineOfKeyPath(source, ['ci', 'phases', 'test', 'unit'])).toBe(7);
    expect(lineOfKeyPath(source, ['ci', 'phases', 'test', 'unit', 'actoin'])).toBe(8);
  });

  it('finds a nested key written in CUE short form', () => {
    const source = file(
      'package project',
      'name: "web"',
      'ci: phases: test: unit: {action: "shell", run: "true"}',
      'ci: phases: build: image: {',
      '\taction: "earthly"',
      '}',
    );

    expect(lineOfKeyPath(source, ['ci', 'phases', 'test', 'unit', 'run'])).toBe(3);
    expect(lineOfKeyPath(source, ['ci', 'phases', 'build', 'image', 'action'])).toBe(5);
  });

  it('finds quoted keys, optional and required markers included', () => {
    const source = file(
      'package project',
      '"ci": {',
      '\t"phases": {',
      '\t\t"unit-test"?: {',
      '\t\t\tlint!: {}',
      '\t\t}',
      '\t}',
      '}',
    );

    expect(lineOfKeyPath(source, ['ci', 'phases', 'unit-test', 'lint'])).toBe(5);
  });

  it('finds a key after the previous key, not where it first appears', () => {
    const source = file(
      'package project',
      'release: {',
      '\ttest: true',
      '}',
      'ci: phases: {',
      '\tbuild: {}',
      '\ttest: {',
      '\t\tunit: {}',
      '\t}',
      '}',
    );

    expect(lineOfKeyPath(source, ['test'])).toBe(3);
    expect(lineOfKeyPath(source, ['ci', 'phases', 'test'])).toBe(7);
  });

  it('matches whole keys only', () => {
    const source = file('mytest: 1', 'testing: 2', 'a.test: 3', 'test: 4');

    expect(lineOfKeyPath(source, ['test'])).toBe(4);
  });

  it('treats regular-expression characters in a key literally', () => {
    const source = file('a+b: 1', '"a.b": 2');

    expect(lineOfKeyPath(source, ['a.b'])).toBe(2);
  });

  it('skips keys that are not strings, such as list indexes', () => {
    const source = file(
      'ci: phases: {',
      '\ttest: {}',
      '}',
      'secrets: [',
      '\t{provider: "aws"},',
      ']',
    );

    expect(lineOfKeyPath(source, ['secrets', 0, 'provider'])).toBe(5);
  });

  it('stops at the last key it found when a later one is not written', () => {
    const source = file('package project', 'ci: phases: {', '\ttest: {}', '}');

    expect(lineOfKeyPath(source, ['ci', 'phases', 'build', 'unit'])).toBe(2);
  });

  it('returns undefined when the first key is not written', () => {
    const source = file('package project', 'name: "web"');

    expect(lineOfKeyPath(source, ['ci', 'phases'])).toBeUndefined();
    expect(lineOfKeyPath(source, [])).toBeUndefined();
  });
});
