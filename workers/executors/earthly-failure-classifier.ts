/**
 * How a failed Earthly run is told apart: a lost or refused connection to the BuildKit runner
 * (worth one retry on another runner) or a build that failed (never retried).
 */
export interface EarthlyFailureRules {
  /**
   * Output that means the runner could not be reached or dropped the connection. Defaults: the
   * CLI's own messages (`connect provided buildkit`, `could not connect to buildkit`, `buildkitd
   * did not respond`, `transport is closing`) and the gRPC/network errors under them
   * (`connection refused`, `failed to connect`, `Error while dialing`, `no such host`,
   * `connection reset by peer`, `i/o timeout`, `code = Unavailable`).
   */
  readonly connectionPatterns: readonly RegExp[];
  /**
   * Output that proves the build itself ran and failed; it wins over `connectionPatterns`, so
   * a `RUN curl` that printed `connection refused` is a build failure. Default: BuildKit's
   * `did not complete successfully` (a RUN's non-zero exit).
   */
  readonly buildFailurePatterns: readonly RegExp[];
  /** Exit codes that mean a lost runner whatever the output; default 7 (Earthly: buildkitd crashed). */
  readonly connectionExitCodes: readonly number[];
}

/** The rules used when an executor is given none; see {@link EarthlyFailureRules}. */
export const DEFAULT_EARTHLY_FAILURE_RULES: EarthlyFailureRules = {
  connectionPatterns: [
    /connect provided buildkit/i,
    /could not connect to buildkit/i,
    /buildkitd did not respond/i,
    /transport is closing/i,
    /connection refused/i,
    /failed to connect/i,
    /error while dialing/i,
    /no such host/i,
    /connection reset by peer/i,
    /i\/o timeout/i,
    /code = Unavailable/,
  ],
  buildFailurePatterns: [/did not complete successfully/i],
  connectionExitCodes: [7],
};

/** What a failed run was. `evidence` is the output line (or exit code) that decided it. */
export type EarthlyFailure =
  { readonly kind: 'connection'; readonly evidence: string } | { readonly kind: 'build' };

/** Longest evidence line kept for a reason. */
const MAX_EVIDENCE_LENGTH = 200;

/** Classifies a failed run from its exit code and the tail of its raw output. */
export function classifyEarthlyFailure(
  exitCode: number | null,
  output: string,
  rules: EarthlyFailureRules = DEFAULT_EARTHLY_FAILURE_RULES,
): EarthlyFailure {
  const lines = output.split(/\r?\n/);
  if (findLine(lines, rules.buildFailurePatterns) !== undefined) return { kind: 'build' };
  const line = findLine(lines, rules.connectionPatterns);
  if (line !== undefined) return { kind: 'connection', evidence: line };
  if (exitCode !== null && rules.connectionExitCodes.includes(exitCode)) {
    return { kind: 'connection', evidence: `exit code ${exitCode}` };
  }
  return { kind: 'build' };
}

/** The last line matching one of `patterns`, trimmed and shortened. */
function findLine(lines: readonly string[], patterns: readonly RegExp[]): string | undefined {
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]?.trim() ?? '';
    if (line !== '' && patterns.some((pattern) => matches(pattern, line))) {
      return line.length > MAX_EVIDENCE_LENGTH ? `${line.slice(0, MAX_EVIDENCE_LENGTH)}…` : line;
    }
  }
  return undefined;
}

/** `test` without the `lastIndex` state of global or sticky patterns. */
function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}
