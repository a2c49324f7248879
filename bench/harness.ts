/**
 * The contract between `npm run bench` and each benchmark suite (`bench/*.bench.ts`).
 * A suite measures, then reports figures; it never asserts. Targets are printed next to the
 * figures so a reader sees at once whether a change moved us away from them.
 */
export interface BenchFigure {
  /** What was measured, e.g. "discovery, cold cache (100 projects)". */
  readonly label: string;
  readonly value: number;
  readonly unit: 'ms' | 's' | 'x' | 'ops/s' | 'MiB';
  /** The target, stated as text (e.g. "<= 3000 ms"), when the issue sets one. */
  readonly target?: string;
  /** Whether the figure meets the target; absent when there is none. */
  readonly met?: boolean;
}

export interface BenchContext {
  report(figure: BenchFigure): void;
  /** A line of progress or context (sizes, what is being prepared). */
  note(message: string): void;
}

export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<void>;
}

/** Runs `fn` `iterations` times and returns each duration in milliseconds. */
export async function timeRuns(iterations: number, fn: () => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await fn();
    durations.push(performance.now() - started);
  }
  return durations;
}

/** The p-th percentile (0..100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
