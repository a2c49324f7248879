/** The 1-based line of the character at `index`. */
export function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < source.length; i += 1) {
    if (source.charCodeAt(i) === 10) line += 1;
  }
  return line;
}

/**
 * The line where a configuration value at `keys` (e.g. `ci.phases.test.unit.actoin`) is most
 * likely written, found by looking each key up after the previous one. CUE names lines for the
 * errors it finds itself; this gives schema errors found after evaluation a line too. Returns
 * `undefined` when not even the first key is written in the file.
 */
export function lineOfKeyPath(source: string, keys: readonly PropertyKey[]): number | undefined {
  let position: number | undefined;
  let from = 0;
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(?:^|[\\s{,])"?${escaped}"?[?!]?\\s*:`, 'mg');
    pattern.lastIndex = from;
    const match = pattern.exec(source);
    if (!match) break;
    position = match.index + match[0].search(/\S/);
    from = pattern.lastIndex;
  }
  return position === undefined ? undefined : lineAt(source, position);
}
