import { assertNever } from '../../core/assert-never.js';
import { BuildkitRunnersUnavailableError, StepExecutorOptionsError } from './executor-errors.js';

/** Consecutive connection failures that open a runner's circuit, by default. */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** Milliseconds an open circuit waits before one trial step (half-open), by default. */
export const DEFAULT_COOL_DOWN_MS = 30_000;

/** A runner's circuit: `closed` takes steps, `open` takes none, `half-open` takes one trial. */
export const RunnerCircuit = {
  closed: 'closed',
  open: 'open',
  halfOpen: 'half-open',
} as const;
/** One of {@link RunnerCircuit}. */
export type RunnerCircuit = (typeof RunnerCircuit)[keyof typeof RunnerCircuit];

/**
 * How a step on a leased runner ended, as far as the runner's health goes: `reachable` (the
 * runner answered, whatever the build did), `connection-failure`, or `unknown` (the step was
 * stopped before anything could be said about the runner).
 */
export type RunnerVerdict = 'reachable' | 'connection-failure' | 'unknown';

/** A runner handed to one step; `release` it exactly once (later calls are ignored). */
export interface RunnerLease {
  readonly address: string;
  release(verdict: RunnerVerdict): void;
}

/** One runner as {@link BuildkitRunnerPool.snapshot} reports it. */
export interface RunnerState {
  readonly address: string;
  readonly circuit: RunnerCircuit;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
}

/** Options of a {@link BuildkitRunnerPool}. */
export interface BuildkitRunnerPoolOptions {
  /** BuildKit addresses (`tcp://buildkit-0.buildkit:8372`); at least one, no duplicates. */
  readonly addresses: readonly string[];
  /** Consecutive connection failures that open a circuit; default 3. */
  readonly failureThreshold?: number;
  /** Milliseconds an open circuit stays open before a half-open trial; default 30 000. */
  readonly coolDownMs?: number;
  /** Milliseconds now, monotonic; default `performance.now`. Tests inject a fake clock. */
  readonly now?: () => number;
}

interface Runner {
  readonly address: string;
  inFlight: number;
  consecutiveFailures: number;
  /** When the circuit opened; `undefined` while closed. */
  openedAt: number | undefined;
  /** Whether the half-open trial step is running. */
  trialInFlight: boolean;
  /** Order of the last lease, to spread ties between equally busy runners. */
  lastLeasedAt: number;
}

/**
 * The worker's BuildKit runners with a circuit breaker each. {@link acquire} picks, among the
 * runners that may take a step (circuit closed, or half-open with no trial running), the one
 * with the fewest steps in flight, the least recently leased on a tie. A runner's circuit opens
 * after `failureThreshold` consecutive connection failures, stays open for `coolDownMs`, then
 * half-opens: one trial step; a reachable trial closes the circuit, a failed one reopens it.
 * State lives in memory, per worker process.
 */
export class BuildkitRunnerPool {
  private readonly runners: readonly Runner[];
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  private leases = 0;

  constructor(options: BuildkitRunnerPoolOptions) {
    if (options.addresses.length === 0) {
      throw new StepExecutorOptionsError('addresses must name at least one BuildKit runner');
    }
    if (new Set(options.addresses).size !== options.addresses.length) {
      throw new StepExecutorOptionsError(
        `addresses has duplicates: ${options.addresses.join(', ')}`,
      );
    }
    this.failureThreshold = positiveInteger(
      'failureThreshold',
      options.failureThreshold,
      DEFAULT_FAILURE_THRESHOLD,
    );
    this.coolDownMs = nonNegative('coolDownMs', options.coolDownMs, DEFAULT_COOL_DOWN_MS);
    this.now = options.now ?? (() => performance.now());
    this.runners = options.addresses.map((address) => ({
      address,
      inFlight: 0,
      consecutiveFailures: 0,
      openedAt: undefined,
      trialInFlight: false,
      lastLeasedAt: -1,
    }));
  }

  /**
   * Leases the least busy runner that may take a step, skipping `exclude`d addresses. Throws
   * {@link BuildkitRunnersUnavailableError} when there is none.
   */
  acquire(exclude: ReadonlySet<string> = new Set()): RunnerLease {
    const now = this.now();
    let chosen: Runner | undefined;
    for (const runner of this.runners) {
      if (exclude.has(runner.address) || !this.canTakeStep(runner, now)) continue;
      if (
        chosen === undefined ||
        runner.inFlight < chosen.inFlight ||
        (runner.inFlight === chosen.inFlight && runner.lastLeasedAt < chosen.lastLeasedAt)
      ) {
        chosen = runner;
      }
    }
    if (chosen === undefined) throw this.unavailable(exclude, now);
    const runner = chosen;
    const isTrial = this.circuitOf(runner, now) === RunnerCircuit.halfOpen;
    if (isTrial) runner.trialInFlight = true;
    runner.inFlight++;
    runner.lastLeasedAt = this.leases++;
    let released = false;
    return {
      address: runner.address,
      release: (verdict) => {
        if (released) return;
        released = true;
        runner.inFlight--;
        if (isTrial) runner.trialInFlight = false;
        this.record(runner, verdict, isTrial);
      },
    };
  }

  /** Every runner's circuit, load and failure count, in configuration order. */
  snapshot(): RunnerState[] {
    const now = this.now();
    return this.runners.map((runner) => ({
      address: runner.address,
      circuit: this.circuitOf(runner, now),
      inFlight: runner.inFlight,
      consecutiveFailures: runner.consecutiveFailures,
    }));
  }

  private record(runner: Runner, verdict: RunnerVerdict, wasTrial: boolean): void {
    switch (verdict) {
      case 'reachable':
        runner.consecutiveFailures = 0;
        runner.openedAt = undefined;
        return;
      case 'connection-failure':
        runner.consecutiveFailures++;
        if (wasTrial || runner.consecutiveFailures >= this.failureThreshold) {
          runner.openedAt = this.now();
        }
        return;
      case 'unknown':
        return;
      default:
        return assertNever(verdict, 'runner verdict');
    }
  }

  private circuitOf(runner: Runner, now: number): RunnerCircuit {
    if (runner.openedAt === undefined) return RunnerCircuit.closed;
    return now - runner.openedAt >= this.coolDownMs ? RunnerCircuit.halfOpen : RunnerCircuit.open;
  }

  private canTakeStep(runner: Runner, now: number): boolean {
    const circuit = this.circuitOf(runner, now);
    switch (circuit) {
      case RunnerCircuit.closed:
        return true;
      case RunnerCircuit.halfOpen:
        return !runner.trialInFlight;
      case RunnerCircuit.open:
        return false;
      default:
        return assertNever(circuit, 'runner circuit');
    }
  }

  private unavailable(exclude: ReadonlySet<string>, now: number): BuildkitRunnersUnavailableError {
    const states = this.runners.map((runner) => {
      if (exclude.has(runner.address)) return `${runner.address} excluded`;
      const circuit = this.circuitOf(runner, now);
      const detail =
        circuit === RunnerCircuit.halfOpen ? 'half-open, trial running' : `circuit ${circuit}`;
      return `${runner.address} ${detail}`;
    });
    const reopenings = this.runners
      .filter((runner) => !exclude.has(runner.address) && runner.openedAt !== undefined)
      .map((runner) => (runner.openedAt ?? now) + this.coolDownMs - now)
      .filter((remaining) => remaining > 0);
    const retryInMs = reopenings.length === 0 ? undefined : Math.min(...reopenings);
    return new BuildkitRunnersUnavailableError(states.join('; '), retryInMs);
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new StepExecutorOptionsError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new StepExecutorOptionsError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}
