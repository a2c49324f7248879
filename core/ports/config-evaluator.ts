/** One configuration file to evaluate, as a package instance of its own. */
export interface ConfigSource {
  /** The file's path relative to the repository root, POSIX separators (errors name it). */
  readonly path: string;
  /** The file's text, after Forge references were replaced. */
  readonly source: string;
}

/** A problem the evaluator found in one file; `line` when it could tell. */
export interface ConfigProblem {
  readonly message: string;
  readonly line?: number | undefined;
}

/** The outcome for one source: its exported value, or why it has none. */
export type ConfigEvaluation =
  | { readonly path: string; readonly ok: true; readonly value: unknown }
  | { readonly path: string; readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * Evaluates configuration files with a real CUE evaluator. Each source is its own package
 * instance (package `packageName`); a backend evaluates a whole batch in as few calls as it
 * can, because one call costs far more than one more file in it. One bad file never hides
 * the results of the others.
 */
export interface ConfigEvaluator {
  evaluate(
    sources: readonly ConfigSource[],
    packageName: string,
  ): Promise<readonly ConfigEvaluation[]>;
  /** Releases the evaluator's resources (a child process, say); idempotent. */
  close(): Promise<void>;
}
