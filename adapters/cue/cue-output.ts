/** One error block of CUE's stderr: the message line and the places it names. */
export interface CueErrorBlock {
  readonly message: string;
  readonly positions: readonly { readonly file: string; readonly line?: number }[];
}

/**
 * Splits what `cue export --out json` prints for several instances, one JSON document after
 * another, into the documents. Stops at an incomplete trailing document (CUE stops at the
 * first instance that fails, after printing the ones before it).
 */
export function splitJsonDocuments(stdout: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let index = 0; index < stdout.length; index += 1) {
    const char = stdout[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"' && depth > 0) inString = true;
    else if (char === '{' || char === '[') {
      if (depth === 0) start = index;
      depth += 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
      if (depth === 0) documents.push(JSON.parse(stdout.slice(start, index + 1)));
    } else if (depth === 0 && /\S/.test(char ?? '')) {
      const end = stdout.indexOf('\n', index);
      const scalar = stdout.slice(index, end === -1 ? undefined : end);
      documents.push(JSON.parse(scalar));
      index = end === -1 ? stdout.length : end;
    }
  }
  return documents;
}

const POSITION = /^\s+(?:\.\/)?(\S+?\.cue)(?::(\d+)(?::\d+)?)?(?::\s.*)?$/;

/**
 * Parses CUE's stderr into error blocks: an unindented message line followed by indented
 * positions (`./a/.forge/project.cue:3:5`, or `a/.forge/project.cue: package is foo`).
 */
export function parseCueErrors(stderr: string): CueErrorBlock[] {
  const blocks: { message: string; positions: { file: string; line?: number }[] }[] = [];
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    const position = POSITION.exec(line);
    const current = blocks.at(-1);
    if (position && current) {
      const [, file, lineNumber] = position;
      current.positions.push({
        file: file as string,
        ...(lineNumber ? { line: Number(lineNumber) } : {}),
      });
      const detail = line.slice(line.indexOf('.cue') + 4).replace(/^(?::\d+)*:\s*/, '');
      if (!lineNumber && detail) current.message = `${current.message}: ${detail}`;
    } else if (/^\s/.test(line) && current) {
      current.message = `${current.message} ${line.trim()}`;
    } else {
      blocks.push({ message: line.trim().replace(/:$/, ''), positions: [] });
    }
  }
  return blocks;
}
