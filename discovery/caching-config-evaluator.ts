import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ConfigEvaluation,
  ConfigEvaluator,
  ConfigSource,
} from '../core/ports/config-evaluator.js';

/** Bumped whenever what the cache stores changes shape, so old disk entries are never read. */
const CACHE_FORMAT = 'forge-config-cache-v1';

export interface CachingConfigEvaluatorOptions {
  /** Where evaluations are also kept across processes; memory only when absent. */
  readonly directory?: string | undefined;
  /** How many evaluations memory keeps, least recently used dropped first; 10,000 by default. */
  readonly maxEntries?: number;
}

/** Cache counters, for metrics and benchmarks. */
export interface ConfigCacheStats {
  hits: number;
  misses: number;
}

/**
 * A {@link ConfigEvaluator} that remembers every evaluation by the hash of its package, path
 * and (reference-resolved) text, in memory and optionally on disk. Only the files it has not
 * seen reach the evaluator, in one batch, so a warm discovery makes no CUE call at all.
 */
export class CachingConfigEvaluator implements ConfigEvaluator {
  readonly stats: ConfigCacheStats = { hits: 0, misses: 0 };
  readonly #inner: ConfigEvaluator;
  readonly #directory: string | undefined;
  readonly #maxEntries: number;
  readonly #memory = new Map<string, ConfigEvaluation>();

  constructor(inner: ConfigEvaluator, options: CachingConfigEvaluatorOptions = {}) {
    this.#inner = inner;
    this.#directory = options.directory;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  async evaluate(
    sources: readonly ConfigSource[],
    packageName: string,
  ): Promise<readonly ConfigEvaluation[]> {
    const keys = sources.map((source) => cacheKey(packageName, source));
    const cached = await Promise.all(keys.map((key) => this.#lookup(key)));
    const missing = sources.filter((_, index) => cached[index] === undefined);
    this.stats.hits += sources.length - missing.length;
    this.stats.misses += missing.length;

    const fresh = new Map<string, ConfigEvaluation>();
    if (missing.length > 0) {
      const evaluations = await this.#inner.evaluate(missing, packageName);
      for (const evaluation of evaluations) fresh.set(evaluation.path, evaluation);
    }
    return Promise.all(
      sources.map(async (source, index) => {
        const hit = cached[index];
        if (hit) return hit;
        const evaluation = fresh.get(source.path);
        if (!evaluation) throw new Error(`evaluator returned nothing for ${source.path}`);
        await this.#store(keys[index] as string, evaluation);
        return evaluation;
      }),
    );
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #lookup(key: string): Promise<ConfigEvaluation | undefined> {
    const inMemory = this.#memory.get(key);
    if (inMemory) {
      this.#memory.delete(key);
      this.#memory.set(key, inMemory);
      return inMemory;
    }
    if (!this.#directory) return undefined;
    try {
      const stored = JSON.parse(await readFile(this.#fileOf(key), 'utf8')) as ConfigEvaluation;
      this.#remember(key, stored);
      return stored;
    } catch {
      return undefined;
    }
  }

  async #store(key: string, evaluation: ConfigEvaluation): Promise<void> {
    this.#remember(key, evaluation);
    if (!this.#directory) return;
    await mkdir(this.#directory, { recursive: true });
    const file = this.#fileOf(key);
    // Unique per write: two evaluations of the same file may be stored at the same time.
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify(evaluation));
    await rename(temporary, file);
  }

  #remember(key: string, evaluation: ConfigEvaluation): void {
    this.#memory.set(key, evaluation);
    if (this.#memory.size > this.#maxEntries) {
      const oldest = this.#memory.keys().next();
      if (!oldest.done) this.#memory.delete(oldest.value);
    }
  }

  #fileOf(key: string): string {
    return join(this.#directory as string, `${key}.json`);
  }
}

function cacheKey(packageName: string, { path, source }: ConfigSource): string {
  return createHash('sha256')
    .update(`${CACHE_FORMAT}\0${packageName}\0${path}\0${source}`)
    .digest('hex');
}
