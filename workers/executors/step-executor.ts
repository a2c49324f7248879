import type { Step } from '../../core/contracts/discovery-output.js';

/** How a step ended. */
export const StepOutcome = {
  success: 'success',
  failed: 'failed',
  timedOut: 'timed-out',
  cancelled: 'cancelled',
} as const;
/** One of {@link StepOutcome}. */
export type StepOutcome = (typeof StepOutcome)[keyof typeof StepOutcome];

/** One step to run in a job's worktree. */
export interface StepRunRequest {
  readonly step: Step;
  /** The project's folder inside the job's worktree (absolute). */
  readonly workdir: string;
  /** Extra environment for the step (job context: run id, phase, project, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Resolved secrets by environment variable name; their values never reach `output`. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Seconds the step may run before it is killed and `timed-out`. */
  readonly timeoutSeconds: number;
  /** Aborted when the step must stop (job cancelled, a sibling failed, worker shutdown). */
  readonly signal: AbortSignal;
  /** Receives the step's output (stdout and stderr interleaved), secrets already masked. */
  readonly output: (chunk: string) => void;
}

/** What a step did. */
export interface StepRunResult {
  readonly outcome: StepOutcome;
  /** The process's exit code; `null` when it was killed or never started. */
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** Why, when the outcome is not success, in one line (for the job record and the log). */
  readonly reason?: string;
}

/**
 * Runs one kind of step (`shell`, `earthly`). An executor never throws for a step that
 * failed: every ending is a {@link StepRunResult}; it throws only when it could not even try.
 * Stopping (signal or timeout) kills the step's whole process group within 2 s.
 */
export interface StepExecutor {
  run(request: StepRunRequest): Promise<StepRunResult>;
}
