import { describe, expect, it } from 'vitest';
import { resolveForgeReferences, valueAtPath } from './forge-references.js';

/** A repository configuration as `.forge/repo.cue` would export it. */
const repository = {
  forgeVersion: '1.0.0',
  phases: {
    test: { group: 1, description: 'tests', timeout: '10m', tags: ['fast', 'unit'] },
  },
};

function resolve(source: string) {
  return resolveForgeReferences(source, (path) => valueAtPath(repository, path));
}

describe('resolveForgeReferences', () => {
  it.each([
    ['@repo(path="…") of a string', 'x: @repo(path="phases.test.timeout")', 'x: "10m"'],
    ['@repo("…") of a number', 'x: @repo("phases.test.group")', 'x: 1'],
    ['@repo of a list', 'x: @repo("phases.test.tags")', 'x: ["fast","unit"]'],
    [
      '@repo of an object',
      'x: @repo(path = "phases.test")',
      'x: {"group":1,"description":"tests","timeout":"10m","tags":["fast","unit"]}',
    ],
  ])('replaces %s by its JSON', (_case, source, expected) => {
    const result = resolve(source);

    expect(result.source).toBe(expected);
    expect(result.problems).toEqual([]);
    expect(result.usesRepositoryValues).toBe(true);
  });

  it('turns @artifact("x.y") into an artifact reference without reading the repository', () => {
    const result = resolveForgeReferences(
      'image: @artifact("api-server.publishers.ecr.uri")',
      () => {
        throw new Error('an @artifact reference must not look the repository up');
      },
    );

    expect(result.source).toBe('image: {"$artifact":"api-server.publishers.ecr.uri"}');
    expect(result.problems).toEqual([]);
    expect(result.usesRepositoryValues).toBe(false);
  });

  it('replaces every reference of a file, in lists and after operators', () => {
    const source = [
      'package project',
      'timeouts: [@repo("phases.test.timeout"), @artifact("web.image")]',
      'label: "phase-" + @repo("phases.test.description")',
      'group: 10 - @repo("phases.test.group")',
      'chosen: *@repo("phases.test.group") | 2',
    ].join('\n');

    const result = resolve(source);

    expect(result.source).toBe(
      [
        'package project',
        'timeouts: ["10m", {"$artifact":"web.image"}]',
        'label: "phase-" + "tests"',
        'group: 10 - 1',
        'chosen: *1 | 2',
      ].join('\n'),
    );
    expect(result.problems).toEqual([]);
  });

  it.each([
    ['a // comment', 'x: 1 // default: @repo("phases.test.group")'],
    ['a "…" string', 'x: "default: @repo(\\"phases.test.group\\")"'],
    ["a '…' bytes literal", `x: 'bytes: @repo("phases.test.group")'`],
    ['a """…""" multi-line string', 'x: """\n\ty: @repo("phases.test.group")\n\t"""'],
    ['a #"…"# raw string', 'x: #"y: @repo("phases.test.group")"#'],
    ['a #"""…"""# raw multi-line string', 'x: #"""\n\t"y": @repo("phases.test.group")\n\t"""#'],
    ['a string with an interpolation', 'x: "\\(y): @repo(path=\\"phases.test.group\\")"'],
    ['an interpolation', 'x: "\\(y & @repo("phases.test.group"))"'],
    ['an attribute after a value', 'x: 1 @repo(foo)'],
    ['an attribute after a string value', 'x: "a" @repo("phases.test.group")'],
  ])('leaves a reference inside %s alone', (_case, source) => {
    const result = resolve(source);

    expect(result.source).toBe(source);
    expect(result.problems).toEqual([]);
    expect(result.usesRepositoryValues).toBe(false);
  });

  it('finds the references after strings, interpolations and comments that hold one', () => {
    const source = [
      'a: #"""',
      '\t"@repo("phases.test.group")"',
      '\t"""#',
      'b: "\\\\" // @repo("phases.test.group")',
      'c: "\\(a + "\\"") b", d: @repo("phases.test.group")',
      'e: @repo("phases.test.group")',
    ].join('\n');

    const result = resolve(source);

    expect(result.source.split('\n')).toEqual([
      'a: #"""',
      '\t"@repo("phases.test.group")"',
      '\t"""#',
      'b: "\\\\" // @repo("phases.test.group")',
      'c: "\\(a + "\\"") b", d: 1',
      'e: 1',
    ]);
  });

  it('keeps the line count when a reference spans lines, so later lines keep their numbers', () => {
    const source = ['a: @repo(', '\tpath="phases.test.group"', ')', 'b: @repo("phases.nope")'].join(
      '\n',
    );

    const result = resolve(source);

    expect(result.source.split('\n')).toEqual(['a: 1', '', '', 'b: null']);
    expect(result.problems).toEqual([
      { line: 4, message: '@repo(path="phases.nope") names nothing in .forge/repo.cue' },
    ]);
  });

  it('reports a path that names nothing with its 1-based line, and still counts as a repo use', () => {
    const source = 'package project\n\nname: "web"\ntimeout: @repo(path="phases.build.timeout")\n';

    const result = resolve(source);

    expect(result.problems).toEqual([
      { line: 4, message: '@repo(path="phases.build.timeout") names nothing in .forge/repo.cue' },
    ]);
    expect(result.source).toBe('package project\n\nname: "web"\ntimeout: null\n');
    expect(result.usesRepositoryValues).toBe(true);
  });

  it.each([
    ['@repo(path=phases.test)', 'repo'],
    ['@repo(phases.test)', 'repo'],
    ['@repo(path="phases..test")', 'repo'],
    ['@repo(path="")', 'repo'],
    ['@artifact(web.image)', 'artifact'],
    ['@artifact(path="web.image")', 'artifact'],
  ])('reports the malformed %s with its usage', (reference, kind) => {
    const source = `package project\nx: ${reference}\n`;

    const result = resolve(source);

    expect(result.source).toBe('package project\nx: null\n');
    expect(result.problems).toEqual([
      {
        line: 2,
        message:
          kind === 'repo'
            ? '@repo takes a dotted path into .forge/repo.cue: @repo(path="phases.test.timeout")'
            : '@artifact takes a quoted reference: @artifact("api-server.publishers.ecr.uri")',
      },
    ]);
    expect(result.usesRepositoryValues).toBe(false);
  });

  it('returns a source without references unchanged', () => {
    const source = 'package project\n\nname: "web" @go(Name)\n';

    const result = resolve(source);

    expect(result).toEqual({ source, problems: [], usesRepositoryValues: false });
  });
});

describe('valueAtPath', () => {
  it('follows a dotted path through objects', () => {
    expect(valueAtPath(repository, 'phases.test.timeout')).toBe('10m');
    expect(valueAtPath(repository, 'phases.test')).toBe(repository.phases.test);
  });

  it('returns falsy values that are there', () => {
    expect(valueAtPath({ a: { zero: 0, off: false, none: null } }, 'a.zero')).toBe(0);
    expect(valueAtPath({ a: { zero: 0, off: false, none: null } }, 'a.off')).toBe(false);
    expect(valueAtPath({ a: { zero: 0, off: false, none: null } }, 'a.none')).toBeNull();
  });

  it.each([
    ['a missing key', 'phases.build'],
    ['a missing nested key', 'phases.test.timeout.seconds'],
    ['a key under a string', 'forgeVersion.length'],
    ['an inherited property', 'phases.toString'],
  ])('returns undefined for %s', (_case, path) => {
    expect(valueAtPath(repository, path)).toBeUndefined();
  });

  it('returns undefined under null and under non-objects', () => {
    expect(valueAtPath({ a: null }, 'a.b')).toBeUndefined();
    expect(valueAtPath(42, 'a')).toBeUndefined();
    expect(valueAtPath(undefined, 'a')).toBeUndefined();
  });
});
