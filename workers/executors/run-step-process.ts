import { assertNever } from '../../core/assert-never.js';
import { StepExecutorOptionsError } from './executor-errors.js';
import { runProcess, type ProcessEnding, type ProcessSpec } from './run-process.js';
import type { SecretMasker } from './secret-masker.js';
import { StepOutcome, type StepRunRequest, type StepRunResult } from './step-executor.js';

/** One attempt at a step's process. */
export interface StepProcessOptions {
  readonly spec: ProcessSpec;
  /** The step's request: its `signal`, `output` and `timeoutSeconds` (for the reason) are used. */
  readonly request: Pick<StepRunRequest, 'signal' | 'output' | 'timeoutSeconds'>;
  /** Masks everything written to `request.output` and the result's `reason`. */
  readonly masker: SecretMasker;
  /** Milliseconds this attempt may run (the step's remaining time). */
  readonly timeoutMs: number;
  readonly killGraceMs?: number;
  /** Also receives the raw, unmasked output (to classify a failure); never write it anywhere. */
  readonly onRawOutput?: (chunk: string) => void;
}

/**
 * Runs one attempt of a step's process with {@link runProcess} and turns its ending into a
 * {@link StepRunResult}: output streamed through the masker while it runs, exit code 0 is
 * `success`, any other code `failed` with reason `exit code N`, a stop `timed-out` or `cancelled`.
 */
export async function runStepProcess(options: StepProcessOptions): Promise<StepRunResult> {
  const { request, masker } = options;
  const masked = masker.stream(request.output);
  const onRawOutput = options.onRawOutput;
  try {
    const run = await runProcess(options.spec, {
      timeoutMs: options.timeoutMs,
      signal: request.signal,
      killGraceMs: options.killGraceMs,
      onOutput: (chunk) => {
        onRawOutput?.(chunk);
        masked.write(chunk);
      },
    });
    const verdict = judge(run.ending, request.timeoutSeconds);
    return {
      outcome: verdict.outcome,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      ...(verdict.reason === undefined ? {} : { reason: masker.maskText(verdict.reason) }),
    };
  } finally {
    masked.end();
  }
}

function judge(
  ending: ProcessEnding,
  timeoutSeconds: number,
): { outcome: StepOutcome; reason?: string } {
  switch (ending.kind) {
    case 'exited':
      return ending.exitCode === 0
        ? { outcome: StepOutcome.success }
        : { outcome: StepOutcome.failed, reason: `exit code ${ending.exitCode}` };
    case 'signalled':
      return { outcome: StepOutcome.failed, reason: `killed by signal ${ending.signal}` };
    case 'timed-out':
      return { outcome: StepOutcome.timedOut, reason: `timed out after ${timeoutSeconds} s` };
    case 'cancelled':
      return { outcome: StepOutcome.cancelled, reason: cancellationReason(ending.reason) };
    default:
      return assertNever(ending, 'process ending');
  }
}

/** `cancelled`, with the abort reason when the caller gave one. */
export function cancellationReason(reason: unknown): string {
  if (typeof reason === 'string' && reason !== '') return `cancelled: ${reason}`;
  if (reason instanceof Error && reason.name !== 'AbortError' && reason.message !== '') {
    return `cancelled: ${reason.message}`;
  }
  return 'cancelled';
}

/** Throws {@link StepExecutorOptionsError} unless `killGraceMs` is absent or a number ≥ 0. */
export function assertKillGrace(killGraceMs: number | undefined): void {
  if (killGraceMs !== undefined && !(Number.isFinite(killGraceMs) && killGraceMs >= 0)) {
    throw new StepExecutorOptionsError(`killGraceMs must be a number >= 0, got ${killGraceMs}`);
  }
}
