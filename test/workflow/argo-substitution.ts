/**
 * Argo Workflows' parameter substitution, re-created for tests from its source
 * (argoproj/argo-workflows v4.1): `util/template` (simple tags and `{{=...}}` expressions over
 * the JSON text of a template), `pkg/apis/workflow/v1alpha1/item.go` (how a loop item prints)
 * and `workflow/controller/operator.go` `processItem` (loop variables and node names). Only the
 * parts a run's workflow uses: simple tags, and expressions made of string literals, `+`,
 * variable paths, `toJson` and `jsonpath` with `$`, `[n]`, `.key` and `['key']` steps.
 */

/** Variables by their dotted name, as Argo's replace map holds them. */
export type ReplaceMap = Readonly<Record<string, string>>;

/**
 * Go's `strconv.Quote` without the surrounding quotes: what Argo writes for a simple tag into
 * the JSON text of a template. Printable characters stay; others become Go escapes, some of
 * which (`\x7f`, `\U000e0001`) are not JSON, which Argo then reports as invalid JSON.
 */
export function goQuote(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    const named: Record<string, string> = {
      '\u0007': '\\a',
      '\b': '\\b',
      '\f': '\\f',
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t',
      '\u000b': '\\v',
      '"': '\\"',
      '\\': '\\\\',
    };
    if (named[char] !== undefined) out += named[char];
    else if (char === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(char)) out += char;
    else if (code < 0x80) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/** Go's `json.Marshal`: JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
}

/**
 * How a loop item (or a field of one) prints, `Item.String()`: compact JSON, with a string's
 * quotes taken off (its escapes stay), and `<`, `>`, `&` left readable.
 */
export function itemString(value: unknown): string {
  const json = goJson(value)
    .replace(/\\u003c/g, '<')
    .replace(/\\u003e/g, '>');
  const fixed = json.replace(/\\u0026/g, '&');
  return typeof value === 'string' ? fixed.slice(1, -1) : fixed;
}

/**
 * Substitutes the `{{...}}` tags of `value` (any JSON value: a template, a step) as Argo does on
 * its JSON text; with `allowUnresolved`, a tag whose variables are missing stays as written.
 */
export function substitute<T>(value: T, variables: ReplaceMap, allowUnresolved: boolean): T {
  const text = JSON.stringify(value).replace(/\{\{(.*?)\}\}/g, (tag, inner: string) => {
    const body = inner.trim();
    if (body.startsWith('=')) {
      const expression = JSON.parse(`"${body.slice(1)}"`) as string;
      const result = evaluate(expression, variables);
      if (result === MISSING) {
        if (allowUnresolved) return tag;
        throw new Error(`failed to evaluate expression: ${expression}`);
      }
      const marshaled = goJson(result);
      return marshaled.startsWith('"') ? marshaled.slice(1, -1) : goQuote(marshaled);
    }
    const replacement = variables[body];
    if (replacement === undefined) {
      if (allowUnresolved) return tag;
      throw new Error(`failed to resolve {{${body}}}`);
    }
    return goQuote(replacement);
  });
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(
      `cannot finish template replacement because the result was invalid JSON (${String(error)})`,
      { cause: error },
    );
  }
}

/** One expanded loop item: the variables it adds and the name Argo gives its node. */
export interface ExpandedItem {
  readonly variables: ReplaceMap;
  /** `<step>(<index>:<item as printed>)`. */
  readonly name: string;
}

/**
 * Expands a step's `withParam` (already substituted: a JSON list) as `processItem` does: `item`
 * is the item printed, `item.<key>` each field of a map item printed, and the node is named
 * after the whole item.
 */
export function expandItems(stepName: string, withParam: string): ExpandedItem[] {
  const items = JSON.parse(withParam) as unknown;
  if (!Array.isArray(items)) throw new Error(`withParam is not a JSON list: ${withParam}`);
  return items.map((item: unknown, index) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const entries = Object.entries(item as Record<string, unknown>);
      // Go marshals a map with its keys sorted.
      const sorted = Object.fromEntries(
        [...entries].sort(([left], [right]) => (left < right ? -1 : 1)),
      );
      const variables: Record<string, string> = { item: goJson(sorted) };
      for (const [key, field] of entries) variables[`item.${key}`] = itemString(field);
      const description = entries
        .map(([key, field]) => `${key}:${itemString(field)}`)
        .sort()
        .join(',');
      return { variables, name: nodeName(stepName, index, description) };
    }
    const printed = itemString(item);
    return { variables: { item: printed }, name: nodeName(stepName, index, printed) };
  });
}

/**
 * Evaluates a `when` condition after substitution, as govaluate does for the forms a run's
 * workflow uses: `<left> == <right>` and `<left> != <right>`, words compared as text.
 */
export function evaluateWhen(condition: string): boolean {
  const match = /^(.*?)\s*(==|!=)\s*(.*)$/.exec(condition.trim());
  if (match === null) throw new Error(`unsupported when: ${condition}`);
  const [, left, operator, right] = match;
  const equal = left?.trim() === right?.trim();
  return operator === '==' ? equal : !equal;
}

function nodeName(stepName: string, index: number, description: string): string {
  return `${stepName}(${index}:${description.replace(/[()]/g, '')})`;
}

const MISSING = Symbol('missing');

type Token = { kind: 'string' | 'name' | 'number' | 'punct'; text: string };

function evaluate(expression: string, variables: ReplaceMap): unknown {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const take = (text?: string): Token => {
    const token = tokens[position++];
    if (token === undefined || (text !== undefined && token.text !== text)) {
      throw new Error(`unexpected ${token?.text ?? 'end'} in ${expression}`);
    }
    return token;
  };
  const sum = (): unknown => {
    let value = primary();
    while (peek()?.text === '+') {
      take('+');
      const right = primary();
      if (value === MISSING || right === MISSING) value = MISSING;
      else if (typeof value === 'string' && typeof right === 'string') value = value + right;
      else throw new Error(`+ needs two strings in ${expression}`);
    }
    return value;
  };
  const primary = (): unknown => {
    const token = take();
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind !== 'name') throw new Error(`unexpected ${token.text} in ${expression}`);
    if (peek()?.text === '(') {
      take('(');
      const args = [sum()];
      while (peek()?.text === ',') {
        take(',');
        args.push(sum());
      }
      take(')');
      return args.includes(MISSING) ? MISSING : call(token.text, args);
    }
    const path = [token.text];
    for (;;) {
      if (peek()?.text === '.') {
        take('.');
        path.push(take().text);
      } else if (peek()?.text === '[') {
        take('[');
        path.push(take().text);
        take(']');
      } else break;
    }
    return variables[path.join('.')] ?? MISSING;
  };
  const value = sum();
  if (position !== tokens.length) throw new Error(`trailing input in ${expression}`);
  return value;
}

function call(name: string, args: unknown[]): unknown {
  if (name === 'toJson') return goJson(args[0]);
  if (name === 'jsonpath') return jsonPath(JSON.parse(String(args[0])), String(args[1]));
  throw new Error(`unsupported function ${name}`);
}

function jsonPath(document: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`unsupported path ${path}`);
  let value = document;
  for (const [, index, key, quoted] of path
    .slice(1)
    .matchAll(/\[(\d+)\]|\.([\w-]+)|\['([^']*)'\]/g)) {
    if (index !== undefined) value = (value as unknown[])[Number(index)];
    else value = (value as Record<string, unknown>)[(key ?? quoted) as string];
    if (value === undefined) throw new Error(`jsonpath ${path} matches nothing`);
  }
  return value;
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_]\w*)|(\d+)|([()[\].,+]))/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < expression.length && (match = pattern.exec(expression)) !== null) {
    if (match[1] !== undefined || match[2] !== undefined) {
      tokens.push({ kind: 'string', text: match[1] ?? match[2] ?? '' });
    } else if (match[3] !== undefined) tokens.push({ kind: 'name', text: match[3] });
    else if (match[4] !== undefined) tokens.push({ kind: 'number', text: match[4] });
    else tokens.push({ kind: 'punct', text: match[5] as string });
  }
  if (pattern.lastIndex < expression.trimEnd().length) {
    throw new Error(`cannot read ${expression} at ${pattern.lastIndex}`);
  }
  return tokens;
}
