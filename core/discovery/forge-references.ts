/**
 * The pass that turns Forge references into valid CUE before evaluation (DESIGN.md section 3):
 * `@repo(path="a.b")` in value position becomes the repository configuration's value at that
 * path, `@artifact("x.y")` becomes `{"$artifact": "x.y"}`, resolved later by a release. Every
 * replacement keeps the line count, so CUE's errors still name the author's lines.
 *
 * This is a lexical pass, not a CUE parser: it only has to know where strings and comments
 * are, so that a reference is never recognised inside them.
 */
import { lineAt } from './source-lines.js';

/** A reference the pass could not replace, with its 1-based line. */
export interface ForgeReferenceProblem {
  readonly line: number;
  readonly message: string;
}

export interface ForgeReferenceResult {
  readonly source: string;
  readonly problems: readonly ForgeReferenceProblem[];
  /** Whether the source named `@repo(...)`, so its evaluation depends on the repository config. */
  readonly usesRepositoryValues: boolean;
}

/** Looks a dotted path up in the repository configuration; `undefined` when nothing is there. */
export type RepositoryValueLookup = (path: string) => unknown;

const REFERENCE_KINDS = ['repo', 'artifact'] as const;
type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/**
 * Characters after which a value starts (`:`, an opening bracket, a separator, an operator),
 * so `@name(` there is ours and not a CUE attribute.
 */
const VALUE_POSITION_BEFORE = new Set(':[,(|&*=+-/<>!~');

/** Replaces every Forge reference of `source`; problems name the reference's line. */
export function resolveForgeReferences(
  source: string,
  lookupRepositoryValue: RepositoryValueLookup,
): ForgeReferenceResult {
  const problems: ForgeReferenceProblem[] = [];
  let output = '';
  let usesRepositoryValues = false;
  let copiedUpTo = 0;

  for (const reference of findReferences(source)) {
    const line = lineAt(source, reference.start);
    const argument = parseArgument(reference.kind, reference.argumentText);
    let replacement: string;
    if (argument === undefined) {
      problems.push({ line, message: usageOf(reference.kind) });
      replacement = 'null';
    } else if (reference.kind === 'artifact') {
      replacement = JSON.stringify({ $artifact: argument });
    } else {
      usesRepositoryValues = true;
      const value = lookupRepositoryValue(argument);
      if (value === undefined) {
        problems.push({
          line,
          message: `@repo(path="${argument}") names nothing in .forge/repo.cue`,
        });
        replacement = 'null';
      } else {
        replacement = JSON.stringify(value);
      }
    }
    const replaced = source.slice(reference.start, reference.end);
    const newlines = replaced.split('\n').length - 1;
    output += source.slice(copiedUpTo, reference.start) + replacement + '\n'.repeat(newlines);
    copiedUpTo = reference.end;
  }
  output += source.slice(copiedUpTo);
  return { source: output, problems, usesRepositoryValues };
}

/** Looks a dotted path (`phases.test.timeout`) up in a JSON value. */
export function valueAtPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

interface FoundReference {
  readonly kind: ReferenceKind;
  readonly start: number;
  readonly end: number;
  readonly argumentText: string;
}

/** Walks the source, skipping comments and string literals (with their interpolations). */
function* findReferences(source: string): Generator<FoundReference> {
  let index = 0;
  let lastSignificant = '';
  while (index < source.length) {
    const char = source[index] as string;
    if (char === '/' && source[index + 1] === '/') {
      const end = source.indexOf('\n', index);
      index = end === -1 ? source.length : end;
      continue;
    }
    if (char === '"' || char === "'" || char === '#') {
      const end = skipString(source, index);
      if (end !== undefined) {
        index = end;
        lastSignificant = '"';
        continue;
      }
    }
    if (char === '@' && VALUE_POSITION_BEFORE.has(lastSignificant)) {
      const reference = readReference(source, index);
      if (reference) {
        yield reference;
        index = reference.end;
        lastSignificant = ')';
        continue;
      }
    }
    if (!/\s/.test(char)) lastSignificant = char;
    index += 1;
  }
}

function readReference(source: string, start: number): FoundReference | undefined {
  for (const kind of REFERENCE_KINDS) {
    const opening = `@${kind}(`;
    if (!source.startsWith(opening, start)) continue;
    let index = start + opening.length;
    while (index < source.length && source[index] !== ')') {
      const char = source[index];
      index = char === '"' ? (skipString(source, index) ?? index + 1) : index + 1;
    }
    const end = Math.min(index + 1, source.length);
    return { kind, start, end, argumentText: source.slice(start + opening.length, index) };
  }
  return undefined;
}

/**
 * Returns the index after the string literal starting at `start` (`"…"`, `'…'`, `"""…"""`,
 * `'''…'''`, each optionally wrapped in `#`s), or `undefined` if no literal starts there.
 */
function skipString(source: string, start: number): number | undefined {
  let hashes = 0;
  while (source[start + hashes] === '#') hashes += 1;
  const quote = source[start + hashes];
  if (quote !== '"' && quote !== "'") return undefined;
  const multiline = source.startsWith(quote.repeat(3), start + hashes);
  const delimiter = (multiline ? quote.repeat(3) : quote) + '#'.repeat(hashes);
  const escape = '\\' + '#'.repeat(hashes);
  let index = start + hashes + (multiline ? 3 : 1);
  while (index < source.length) {
    if (source.startsWith(escape, index)) {
      const after = index + escape.length;
      index = source[after] === '(' ? skipInterpolation(source, after + 1) : after + 1;
      continue;
    }
    if (source.startsWith(delimiter, index)) return index + delimiter.length;
    if (!multiline && source[index] === '\n') return index;
    index += 1;
  }
  return source.length;
}

/** Skips an interpolation's expression up to its closing parenthesis, nested strings included. */
function skipInterpolation(source: string, start: number): number {
  let depth = 1;
  let index = start;
  while (index < source.length && depth > 0) {
    const char = source[index];
    if (char === '"' || char === "'") {
      index = skipString(source, index) ?? index + 1;
      continue;
    }
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    index += 1;
  }
  return index;
}

/** `path="a.b"` or `"a.b"` for @repo; `"a.b"` for @artifact; `undefined` when malformed. */
function parseArgument(kind: ReferenceKind, text: string): string | undefined {
  const pattern = kind === 'repo' ? /^\s*(?:path\s*=\s*)?"([^"\\]+)"\s*$/ : /^\s*"([^"\\]+)"\s*$/;
  const path = pattern.exec(text)?.[1];
  return path !== undefined && /^[^.\s]+(?:\.[^.\s]+)*$/.test(path) ? path : undefined;
}

function usageOf(kind: ReferenceKind): string {
  return kind === 'repo'
    ? '@repo takes a dotted path into .forge/repo.cue: @repo(path="phases.test.timeout")'
    : '@artifact takes a quoted reference: @artifact("api-server.publishers.ecr.uri")';
}
