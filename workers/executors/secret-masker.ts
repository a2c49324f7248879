import { StepExecutorOptionsError } from './executor-errors.js';

/** What replaces every secret in masked text. */
export const SECRET_MASK = '***';

/** Secrets shorter than this are not masked by default: masking `a` or `on` would ruin logs. */
export const DEFAULT_MIN_SECRET_LENGTH = 4;

/** Options of a {@link SecretMasker}. */
export interface SecretMaskerOptions {
  /** The secret values; duplicates and values shorter than `minLength` are dropped. */
  readonly secrets: Iterable<string>;
  /** Shortest value that is masked; default {@link DEFAULT_MIN_SECRET_LENGTH} (4). */
  readonly minLength?: number;
}

/** A masked stream of text: `write` chunks in order, then `end` once to flush the held tail. */
export interface MaskingStream {
  write(chunk: string): void;
  end(): void;
}

interface Range {
  start: number;
  end: number;
}

/**
 * Replaces secret values with `***` in text, one-shot ({@link SecretMasker.maskText}) or as a
 * stream ({@link SecretMasker.stream}) whose chunks may split a secret anywhere.
 *
 * What is masked: every value at least `minLength` (4) characters long and, for a multi-line
 * value (a PEM key), also each of its lines that is long enough on its own (PEM armour lines
 * excepted), since tools print such values line by line. Overlapping occurrences of different
 * secrets are masked as one.
 *
 * Streaming holds back only what could still become a secret: the shortest tail of the text
 * seen so far that is a proper prefix of some secret (at most the longest secret's length minus
 * one). Ordinary output therefore passes through at once; `end()` flushes whatever is held.
 *
 * Matching uses one regular expression of the escaped values, longest first.
 */
export class SecretMasker {
  /** Distinct secrets to mask, longest first. */
  private readonly secrets: readonly string[];
  private readonly pattern: RegExp | undefined;
  private readonly longest: number;

  constructor(options: SecretMaskerOptions) {
    const minLength = options.minLength ?? DEFAULT_MIN_SECRET_LENGTH;
    if (!Number.isInteger(minLength) || minLength < 1) {
      throw new StepExecutorOptionsError(`minLength must be a positive integer, got ${minLength}`);
    }
    const distinct = new Set<string>();
    for (const value of options.secrets) {
      for (const candidate of maskableParts(value)) {
        if (candidate.length >= minLength) distinct.add(candidate);
      }
    }
    this.secrets = [...distinct].sort((left, right) => right.length - left.length);
    this.longest = this.secrets[0]?.length ?? 0;
    this.pattern =
      this.secrets.length === 0
        ? undefined
        : new RegExp(this.secrets.map(escapeRegExp).join('|'), 'g');
  }

  /** Whether there is anything to mask. */
  get isEmpty(): boolean {
    return this.pattern === undefined;
  }

  /** The text with every secret replaced by `***`. */
  maskText(text: string): string {
    return applyMask(text, this.findRanges(text));
  }

  /** A stream that masks `write`n chunks and hands the masked text to `sink` as it goes. */
  stream(sink: (masked: string) => void): MaskingStream {
    let held = '';
    let ended = false;
    return {
      write: (chunk: string): void => {
        if (ended || chunk === '') return;
        const text = held + chunk;
        const cut = this.safeCut(text);
        held = text.slice(cut.index);
        if (cut.index > 0) sink(applyMask(text.slice(0, cut.index), cut.ranges));
      },
      end: (): void => {
        if (ended) return;
        ended = true;
        if (held !== '') sink(this.maskText(held));
        held = '';
      },
    };
  }

  /**
   * Where `text` may be cut: everything before the index is final (no secret can begin there and
   * end in a later chunk), with the secret ranges that lie before it.
   */
  private safeCut(text: string): { index: number; ranges: Range[] } {
    if (this.pattern === undefined) return { index: text.length, ranges: [] };
    let index = this.partialSecretStart(text);
    const ranges = this.findRanges(text);
    const kept: Range[] = [];
    for (const range of ranges) {
      if (range.end <= index) kept.push(range);
      else {
        // A complete secret that reaches past the cut (it overlaps a partial one): hold it whole.
        if (range.start < index) index = range.start;
        break;
      }
    }
    return { index, ranges: kept };
  }

  /** The first index from which the rest of `text` is a proper prefix of some secret. */
  private partialSecretStart(text: string): number {
    const from = Math.max(0, text.length - (this.longest - 1));
    for (let index = from; index < text.length; index++) {
      const tailLength = text.length - index;
      for (const secret of this.secrets) {
        if (secret.length <= tailLength) break; // longest first: the rest are shorter still
        if (startsWithTail(secret, text, index)) return index;
      }
    }
    return text.length;
  }

  /** Merged, sorted ranges of every occurrence of every secret (overlaps included). */
  private findRanges(text: string): Range[] {
    const pattern = this.pattern;
    if (pattern === undefined || text === '') return [];
    const ranges: Range[] = [];
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const start = match.index;
      const end = start + match[0].length;
      const last = ranges.at(-1);
      if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
      else ranges.push({ start, end });
      // Step one character on, not past the match, so overlapping secrets are found too.
      pattern.lastIndex = start + 1;
    }
    return ranges;
  }
}

/** PEM armour (`-----BEGIN PRIVATE KEY-----`) is the same in every key: public, never masked. */
const PEM_ARMOUR = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;

/** The value itself and, for multi-line values, each trimmed line but PEM armour. */
function maskableParts(value: string): string[] {
  if (!/[\r\n]/.test(value)) return [value];
  const lines = value
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => !PEM_ARMOUR.test(line));
  return [value, ...lines];
}

/** Whether `text` from `index` to its end equals the start of `secret`. */
function startsWithTail(secret: string, text: string, index: number): boolean {
  for (let offset = 0; index + offset < text.length; offset++) {
    if (text.charCodeAt(index + offset) !== secret.charCodeAt(offset)) return false;
  }
  return true;
}

function applyMask(text: string, ranges: readonly Range[]): string {
  if (ranges.length === 0) return text;
  let masked = '';
  let position = 0;
  for (const range of ranges) {
    masked += text.slice(position, range.start) + SECRET_MASK;
    position = range.end;
  }
  return masked + text.slice(position);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
