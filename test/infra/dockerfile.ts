/** One instruction of a Dockerfile: `RUN npm ci` is `{ keyword: 'RUN', args: 'npm ci' }`. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

/** One build stage: `FROM <base> AS <name>` and its instructions. */
export interface DockerStage {
  readonly name: string;
  /** The base after `ARG` defaults are substituted: an image, or an earlier stage's name. */
  readonly base: string;
  readonly instructions: readonly DockerInstruction[];
}

/**
 * Parses a Dockerfile into its stages, enough to check how images are built without a Docker
 * engine: comments and blank lines dropped, `\` continuations joined, `${ARG}` in `FROM`
 * replaced by the default of an `ARG` declared before the first `FROM`.
 */
export function parseDockerfile(text: string): DockerStage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const globalArgs = new Map<string, string>();
  const stages: { name: string; base: string; instructions: DockerInstruction[] }[] = [];
  for (const line of lines) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = (match?.[2] ?? '').replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const [image = '', , name] = args.split(' ');
      const base = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => {
        return globalArgs.get(braced ?? bare ?? '') ?? '';
      });
      stages.push({ name: name ?? String(stages.length), base, instructions: [] });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [name = '', value = ''] = args.split('=');
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/**
 * The instructions that make up `stage`'s image: those of the stages it is built `FROM`,
 * then its own.
 */
export function effectiveInstructions(
  stages: readonly DockerStage[],
  stage: string,
): DockerInstruction[] {
  const found = stages.find((candidate) => candidate.name === stage);
  if (!found) throw new Error(`no stage ${stage}`);
  const parent = stages.some((candidate) => candidate.name === found.base)
    ? effectiveInstructions(stages, found.base)
    : [];
  return [...parent, ...found.instructions];
}
