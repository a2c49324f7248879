import { describe, expect, it } from 'vitest';
import { batchFieldName, batchIndexOf, withoutBatchField, wrapForBatch } from './cue-batch.js';

const FIELD = batchFieldName(7);

/** The wrapped text of `source`, failing the test if the file was refused. */
function wrapped(source: string): string {
  const member = wrapForBatch(source, 'project', FIELD);
  if (!member.ok) throw new Error(`refused at line ${member.line}: ${member.message}`);
  return member.source;
}

/**
 * Asserts that `result` is `source` with the wrapper opened at the start of line `bodyLine`
 * and closed after the last line: every line keeps its number.
 */
function expectWrappedAt(source: string, result: string, bodyLine: number): void {
  const original = source.split('\n');
  const lines = result.split('\n');
  original.forEach((line, index) => {
    expect(lines[index]).toBe(index === bodyLine - 1 ? `${FIELD}: {${line}` : line);
  });
  expect(lines.slice(original.length)).toEqual(['}', '']);
}

describe('batchFieldName', () => {
  it('names the field after the index', () => {
    expect(batchFieldName(7)).toBe('FORGE_CONFIG_7');
  });
});

describe('wrapForBatch', () => {
  it('opens the wrapper on the first body line after the package clause', () => {
    const source = 'package project\n\nname: "web"\nci: phases: test: unit: {action: "shell"}\n';

    const result = wrapped(source);

    expect(result).toBe(
      'package project\n\nFORGE_CONFIG_7: {name: "web"\nci: phases: test: unit: {action: "shell"}\n\n}\n',
    );
    expectWrappedAt(source, result, 3);
  });

  it('keeps a single import outside the wrapper', () => {
    const source = 'package project\nimport "strings"\n\nname: strings.ToLower("WEB")\n';

    const result = wrapped(source);

    expectWrappedAt(source, result, 4);
  });

  it('keeps several single imports, with and without alias, outside the wrapper', () => {
    const source = 'package project\n\nimport s "strings"\nimport "list"\n\nname: "web"\n';

    const result = wrapped(source);

    expectWrappedAt(source, result, 6);
  });

  it('keeps a grouped import outside the wrapper', () => {
    const source = [
      'package project',
      '',
      'import (',
      '\t"strings"',
      '\tl "list"',
      ')',
      '',
      'name: strings.ToLower("WEB")',
      'steps: l.Sort([2, 1], l.Ascending)',
      '',
    ].join('\n');

    const result = wrapped(source);

    expectWrappedAt(source, result, 8);
  });

  it('skips leading comments and file attributes before the package clause', () => {
    const source = [
      '// The web service.',
      '// Owned by the platform team.',
      '@if(ci)',
      '',
      'package project // the project package',
      '',
      '// Its name.',
      'name: "web"',
      '',
    ].join('\n');

    const result = wrapped(source);

    expectWrappedAt(source, result, 8);
  });

  it('does not take a field that starts with "import" for an import', () => {
    const source = 'package project\nimportant: true\n';

    const result = wrapped(source);

    expectWrappedAt(source, result, 2);
  });

  it('wraps an empty body', () => {
    expect(wrapped('package project\n')).toBe('package project\nFORGE_CONFIG_7: {\n}\n');
  });

  it.each([
    ['a package clause', 'package project'],
    ['a comment', 'package project // nothing else'],
    ['an import', 'package project\nimport "strings"'],
    ['a grouped import', 'package project\nimport (\n\t"strings"\n)'],
  ])('starts the wrapper on a line of its own when the file ends with %s', (_case, source) => {
    const result = wrapped(source);

    expect(result).toBe(`${source}\n${FIELD}: {\n}\n`);
  });

  it('refuses a file without a package clause, naming the first line that is not a comment', () => {
    const result = wrapForBatch('// web\n\nname: "web"\n', 'project', FIELD);

    expect(result).toEqual({ ok: false, line: 3, message: 'must start with "package project"' });
  });

  it('refuses a file that declares another package, naming the package clause line', () => {
    const result = wrapForBatch('// web\n\npackage repo\nname: "web"\n', 'project', FIELD);

    expect(result).toEqual({
      ok: false,
      line: 3,
      message: 'declares package repo, but must be "package project"',
    });
  });

  it('refuses a package whose name only starts with the expected one', () => {
    const result = wrapForBatch('package projects\n', 'project', FIELD);

    expect(result).toEqual({
      ok: false,
      line: 1,
      message: 'declares package projects, but must be "package project"',
    });
  });

  it('refuses a package clause without a name', () => {
    const result = wrapForBatch('package\nname: "web"\n', 'project', FIELD);

    expect(result).toEqual({
      ok: false,
      line: 1,
      message: 'declares package (none), but must be "package project"',
    });
  });
});

describe('batchIndexOf', () => {
  it.each([
    ['FORGE_CONFIG_3.ci.phases', 3],
    ['FORGE_CONFIG_12', 12],
    ['FORGE_CONFIG_0.name', 0],
  ])('reads the index of %s', (fieldPath, index) => {
    expect(batchIndexOf(fieldPath)).toBe(index);
  });

  it.each(['FORGE_CONFIG_3x.name', 'ci.FORGE_CONFIG_3', 'FORGE_CONFIG_.name', 'name', ''])(
    'finds no index in %j',
    (fieldPath) => {
      expect(batchIndexOf(fieldPath)).toBeUndefined();
    },
  );
});

describe('withoutBatchField', () => {
  it.each([
    ['FORGE_CONFIG_3.ci.phases.test: incomplete value', 'ci.phases.test: incomplete value'],
    ['FORGE_CONFIG_0: field not allowed', 'field not allowed'],
    [
      'conflicting values FORGE_CONFIG_1.name and FORGE_CONFIG_2.name',
      'conflicting values name and name',
    ],
    ['name: incomplete value string', 'name: incomplete value string'],
  ])('turns %j into %j', (message, expected) => {
    expect(withoutBatchField(message)).toBe(expected);
  });

  it('keeps a message that would be empty without the field', () => {
    expect(withoutBatchField('FORGE_CONFIG_0')).toBe('FORGE_CONFIG_0');
  });
});
