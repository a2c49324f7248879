/**
 * Turns many configuration files into ONE CUE package instance, so that a single evaluator
 * call evaluates them all: each file's body is wrapped in a top-level field of its own
 * (`FORGE_CONFIG_<n>: { … }`), after its package clause and imports, which stay file-scoped.
 * The wrapper opens on the body's first line and closes after its last, so every line number
 * CUE reports is the author's.
 *
 * Only the preamble (comments, attributes, package clause, imports) is scanned here; the body
 * is left to CUE.
 */

/** A file ready for a batch, or why it cannot join one. */
export type BatchMember =
  | { readonly ok: true; readonly source: string }
  | { readonly ok: false; readonly line: number; readonly message: string };

/** The field that holds the `index`th file of a batch. */
export function batchFieldName(index: number): string {
  return `FORGE_CONFIG_${index}`;
}

/** The batch index named by an error path such as `FORGE_CONFIG_3.ci.phases`, if any. */
export function batchIndexOf(fieldPath: string): number | undefined {
  const match = /^FORGE_CONFIG_(\d+)(?:\.|$)/.exec(fieldPath);
  return match ? Number(match[1]) : undefined;
}

/** Removes the batch wrapper's name from a CUE message, so it reads as the author's file. */
export function withoutBatchField(message: string): string {
  return message.replace(/\bFORGE_CONFIG_\d+\.?/g, '').replace(/^:\s*/, '') || message;
}

/**
 * Wraps `source` as field `fieldName`, checking that it declares `packageName`; a file
 * without that package clause is refused with the line to fix.
 */
export function wrapForBatch(source: string, packageName: string, fieldName: string): BatchMember {
  const scanner = new PreambleScanner(source);
  scanner.skipTrivia();
  while (scanner.peek() === '@') {
    scanner.skipLine();
    scanner.skipTrivia();
  }
  if (!scanner.takeKeyword('package')) {
    return { ok: false, line: scanner.line(), message: `must start with "package ${packageName}"` };
  }
  const declared = scanner.takeIdentifier();
  if (declared !== packageName) {
    return {
      ok: false,
      line: scanner.line(),
      message: `declares package ${declared || '(none)'}, but must be "package ${packageName}"`,
    };
  }
  scanner.skipTrivia();
  while (scanner.takeKeyword('import')) {
    scanner.skipImportSpec();
    scanner.skipTrivia();
  }
  const bodyStart = scanner.position;
  // A file that ends with its preamble and no newline (`package project`, maybe a comment
  // after it) would run into the wrapper; with no body, a line more shifts no line numbers.
  const separator = bodyStart === source.length && !source.endsWith('\n') ? '\n' : '';
  return {
    ok: true,
    source: `${source.slice(0, bodyStart)}${separator}${fieldName}: {${source.slice(bodyStart)}\n}\n`,
  };
}

class PreambleScanner {
  position = 0;

  constructor(private readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.position];
  }

  line(): number {
    return this.text.slice(0, this.position).split('\n').length;
  }

  /** Skips white space (commas included, CUE's separator) and `//` comments. */
  skipTrivia(): void {
    for (;;) {
      const char = this.peek();
      if (char !== undefined && /[\s,]/.test(char)) this.position += 1;
      else if (this.text.startsWith('//', this.position)) this.skipLine();
      else return;
    }
  }

  skipLine(): void {
    const end = this.text.indexOf('\n', this.position);
    this.position = end === -1 ? this.text.length : end + 1;
  }

  takeKeyword(keyword: string): boolean {
    const after = this.text[this.position + keyword.length];
    if (
      !this.text.startsWith(keyword, this.position) ||
      (after !== undefined && /[\w$#]/.test(after))
    ) {
      return false;
    }
    this.position += keyword.length;
    return true;
  }

  takeIdentifier(): string {
    while (this.peek() === ' ' || this.peek() === '\t') this.position += 1;
    const match = /^[A-Za-z_$#][\w$#]*/.exec(this.text.slice(this.position));
    this.position += match?.[0].length ?? 0;
    return match?.[0] ?? '';
  }

  /** Skips `"path"`, `alias "path"` or a parenthesised list of them. */
  skipImportSpec(): void {
    this.skipTrivia();
    if (this.peek() === '(') {
      while (this.position < this.text.length && this.peek() !== ')') {
        if (this.peek() === '"') this.skipQuoted();
        else this.position += 1;
      }
      this.position += 1;
      return;
    }
    if (this.peek() !== '"') this.takeIdentifier();
    this.skipTrivia();
    if (this.peek() === '"') this.skipQuoted();
  }

  private skipQuoted(): void {
    this.position += 1;
    while (this.position < this.text.length && this.peek() !== '"' && this.peek() !== '\n') {
      this.position += this.peek() === '\\' ? 2 : 1;
    }
    this.position += 1;
  }
}
