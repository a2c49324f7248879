import { describe, expect, it } from 'vitest';
import { parseCueErrors, splitJsonDocuments } from './cue-output.js';

/** A document as `cue export --out json` prints it: indented, with a final newline. */
function printed(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}

describe('splitJsonDocuments', () => {
  it('splits several pretty-printed documents', () => {
    const documents = [
      { name: 'web', ci: { phases: { test: { unit: { action: 'shell', run: 'true' } } } } },
      { name: 'api', tags: ['a', { nested: [] }] },
      [1, 2, 3],
    ];

    const result = splitJsonDocuments(documents.map(printed).join(''));

    expect(result).toEqual(documents);
  });

  it('is not misled by braces, brackets and escaped quotes inside strings', () => {
    const documents = [
      { run: 'echo "}" && echo \'{\' ]', path: 'C:\\dir\\', quote: '\\"' },
      { next: '[{' },
    ];

    const result = splitJsonDocuments(documents.map(printed).join(''));

    expect(result).toEqual(documents);
  });

  it('reads scalar documents, strings included', () => {
    const result = splitJsonDocuments('"a \\" { string"\n42\ntrue\nnull\n{"a": 1}\n');

    expect(result).toEqual(['a " { string', 42, true, null, { a: 1 }]);
  });

  it('stops at a truncated trailing document, keeping the ones before it', () => {
    const stdout = `${printed({ name: 'web' })}${printed({ name: 'api' })}{\n    "name": "wo`;

    const result = splitJsonDocuments(stdout);

    expect(result).toEqual([{ name: 'web' }, { name: 'api' }]);
  });

  it('returns nothing for empty output', () => {
    expect(splitJsonDocuments('')).toEqual([]);
    expect(splitJsonDocuments('\n')).toEqual([]);
  });
});

describe('parseCueErrors', () => {
  it('reads a message with the positions it names', () => {
    const stderr = [
      'x: conflicting values 2 and 1:',
      '    ./y/.forge/project.cue:3:5',
      '    ./y/.forge/project.cue:4:5',
      '',
    ].join('\n');

    const result = parseCueErrors(stderr);

    expect(result).toEqual([
      {
        message: 'x: conflicting values 2 and 1',
        positions: [
          { file: 'y/.forge/project.cue', line: 3 },
          { file: 'y/.forge/project.cue', line: 4 },
        ],
      },
    ]);
  });

  it('moves the detail of a position without a line into the message', () => {
    const stderr = [
      'build constraints exclude all CUE files in ./b/.forge:',
      '    b/.forge/project.cue: package is foo, want project',
      '',
    ].join('\n');

    const result = parseCueErrors(stderr);

    expect(result).toEqual([
      {
        message:
          'build constraints exclude all CUE files in ./b/.forge: package is foo, want project',
        positions: [{ file: 'b/.forge/project.cue' }],
      },
    ]);
  });

  it('reads a message without positions', () => {
    expect(parseCueErrors('name: incomplete value string\n')).toEqual([
      { message: 'name: incomplete value string', positions: [] },
    ]);
  });

  it('reads a syntax error in a batch file', () => {
    const result = parseCueErrors("missing ',' in struct literal:\n    ./batch/f7.cue:6:8\n");

    expect(result).toEqual([
      { message: "missing ',' in struct literal", positions: [{ file: 'batch/f7.cue', line: 6 }] },
    ]);
  });

  it('separates consecutive errors, each with its own positions', () => {
    const stderr = [
      'a: conflicting values 2 and 1:',
      '    ./a/.forge/project.cue:1:4',
      'b.name: incomplete value string:',
      '    ./b/.forge/project.cue:2:7',
      'c: incomplete value int',
      '',
    ].join('\n');

    const result = parseCueErrors(stderr);

    expect(result).toEqual([
      {
        message: 'a: conflicting values 2 and 1',
        positions: [{ file: 'a/.forge/project.cue', line: 1 }],
      },
      {
        message: 'b.name: incomplete value string',
        positions: [{ file: 'b/.forge/project.cue', line: 2 }],
      },
      { message: 'c: incomplete value int', positions: [] },
    ]);
  });

  it('joins an indented line that is not a position to the message', () => {
    const result = parseCueErrors('x: invalid value:\n    more detail\n');

    expect(result).toEqual([{ message: 'x: invalid value more detail', positions: [] }]);
  });

  it('returns no blocks for empty stderr', () => {
    expect(parseCueErrors('')).toEqual([]);
  });
});
