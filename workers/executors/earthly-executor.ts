import type { RunnerLease } from './buildkit-runner-pool.js';
import type { BuildkitTlsSource } from './buildkit-tls-files.js';
import { findEarthlyBinary } from './earthly-binary.js';
import {
  DEFAULT_EARTHLY_FAILURE_RULES,
  classifyEarthlyFailure,
  type EarthlyFailureRules,
} from './earthly-failure-classifier.js';
import { BuildkitRunnersUnavailableError, StepActionUnsupportedError } from './executor-errors.js';
import { cancellationReason } from './run-step-process.js';
import type { SecretMasker } from './secret-masker.js';
import { StepProcessLauncher, type StepProcessSettings } from './step-process-launcher.js';
import {
  StepOutcome,
  type StepExecutor,
  type StepRunRequest,
  type StepRunResult,
} from './step-executor.js';

/** Raw output kept per attempt to classify a failure (the CLI's error is at the end). */
const CLASSIFIED_TAIL_CHARS = 64 * 1024;

/** The slice of the runner pool the executor uses. */
export interface BuildkitRunnerSource {
  /** Leases a runner, skipping `exclude`d addresses; throws `BuildkitRunnersUnavailableError`. */
  acquire(exclude?: ReadonlySet<string>): RunnerLease;
}

/** Options of an {@link EarthlyExecutor}; `baseEnv` also gives the PATH the binary is found on. */
export interface EarthlyExecutorOptions extends StepProcessSettings {
  /** The BuildKit runners (a `BuildkitRunnerPool`). */
  readonly runners: BuildkitRunnerSource;
  /** The CLI: a path, or a name on PATH; default the first of `earthly`, `earth` on PATH. */
  readonly binary?: string;
  /**
   * Client TLS for the runners (a `BuildkitTlsFiles`). Without it no `--config` is passed and the
   * CLI's own config (`~/.earthly/config.yml`) decides: Earthly enables TLS for `tcp://` hosts by
   * default, so plain-TCP runners need `global.tls_enabled: false` there.
   */
  readonly tls?: BuildkitTlsSource;
  /** How connection failures are recognised; fields default to `DEFAULT_EARTHLY_FAILURE_RULES`. */
  readonly failureRules?: Partial<EarthlyFailureRules>;
}

interface Prepared {
  readonly binary: string;
  readonly configFile: string | undefined;
  readonly tlsSecretValues: readonly string[];
}

/** What every attempt of one step shares. */
interface AttemptContext {
  readonly request: StepRunRequest;
  readonly target: string;
  readonly prepared: Prepared;
  readonly masker: SecretMasker;
  /** `performance.now()` by which the step must be done (its timeout, across attempts). */
  readonly deadline: number;
}

/**
 * Runs `earthly` steps with the Earthly CLI (or EarthBuild's `earth`) against a remote BuildKit
 * runner from the pool:
 * `<bin> --buildkit-host <runner> [--config <tls config>] [--secret NAME...] <args...> <target>`
 * in `workdir`. Each secret is in the process environment and named with `--secret NAME`, which
 * Earthly reads from the environment, so values never appear on a command line.
 *
 * Streaming, masking, timeout and cancellation are the shell executor's (shared `StepProcessLauncher`).
 * A run that fails for a connection failure (see `EarthlyFailureRules`) is retried ONCE on
 * another runner within the step's remaining time; a build failure never is. Each attempt tells
 * the pool how the runner did, which drives its circuit breakers; with no runner available the
 * step fails with the pool's reason.
 *
 * The binary lookup and the TLS files happen on the first step (constructors do no I/O); a
 * missing binary or unreadable TLS material throws (the executor could not even try).
 */
export class EarthlyExecutor implements StepExecutor {
  private readonly rules: EarthlyFailureRules;
  private readonly launcher: StepProcessLauncher;
  private preparation: Promise<Prepared> | undefined;

  constructor(private readonly options: EarthlyExecutorOptions) {
    this.launcher = new StepProcessLauncher(options);
    const rules = options.failureRules ?? {};
    this.rules = {
      connectionPatterns:
        rules.connectionPatterns ?? DEFAULT_EARTHLY_FAILURE_RULES.connectionPatterns,
      buildFailurePatterns:
        rules.buildFailurePatterns ?? DEFAULT_EARTHLY_FAILURE_RULES.buildFailurePatterns,
      connectionExitCodes:
        rules.connectionExitCodes ?? DEFAULT_EARTHLY_FAILURE_RULES.connectionExitCodes,
    };
  }

  async run(request: StepRunRequest): Promise<StepRunResult> {
    const { step } = request;
    if (step.action !== 'earthly') {
      throw new StepActionUnsupportedError(step.name, step.action, 'the Earthly executor');
    }
    const startedAt = performance.now();
    const prepared = await this.prepare();
    const context: AttemptContext = {
      request,
      target: step.target,
      prepared,
      masker: this.launcher.masker(request, prepared.tlsSecretValues),
      deadline: startedAt + request.timeoutSeconds * 1000,
    };
    const elapsed = (): number => Math.round(performance.now() - startedAt);
    const tried = new Set<string>();
    let firstFailure: { address: string; evidence: string } | undefined;

    for (;;) {
      if (request.signal.aborted) {
        const reason = cancellationReason(request.signal.reason);
        return { outcome: StepOutcome.cancelled, exitCode: null, durationMs: elapsed(), reason };
      }
      let lease: RunnerLease;
      try {
        lease = this.options.runners.acquire(tried);
      } catch (error) {
        if (!(error instanceof BuildkitRunnersUnavailableError)) throw error;
        const reason =
          firstFailure === undefined
            ? error.message
            : `BuildKit runner ${firstFailure.address} unreachable (${firstFailure.evidence}) and no other runner for a retry: ${error.message}`;
        return failed(context.masker.maskText(reason), elapsed());
      }
      tried.add(lease.address);

      const attempt = await this.attempt(context, lease);
      if (attempt.evidence === undefined) return { ...attempt.result, durationMs: elapsed() };
      const { address } = lease;
      if (firstFailure !== undefined) {
        const reason = `BuildKit runner ${address} unreachable (${attempt.evidence}) after ${firstFailure.address} was unreachable (${firstFailure.evidence})`;
        return { ...attempt.result, reason, durationMs: elapsed() };
      }
      if (performance.now() >= context.deadline) {
        const reason = `BuildKit runner ${address} unreachable (${attempt.evidence})`;
        return { ...attempt.result, reason, durationMs: elapsed() };
      }
      firstFailure = { address, evidence: attempt.evidence };
      request.output(
        `forge: BuildKit runner ${address} unreachable (${attempt.evidence}); retrying once on another runner\n`,
      );
    }
  }

  /**
   * Runs the CLI once against the leased runner and releases the lease with what the run said
   * about the runner. `evidence` (masked) is set when the run failed for a connection failure.
   */
  private async attempt(
    context: AttemptContext,
    lease: RunnerLease,
  ): Promise<{ result: StepRunResult; evidence?: string }> {
    const { request, prepared, masker } = context;
    request.output(`forge: running ${context.target} on BuildKit runner ${lease.address}\n`);
    let tail = '';
    let result: StepRunResult;
    try {
      result = await this.launcher.run(request, {
        file: prepared.binary,
        args: earthlyArguments(request, context.target, lease.address, prepared.configFile),
        timeoutMs: context.deadline - performance.now(),
        masker,
        onRawOutput: (chunk) => {
          tail = (tail + chunk).slice(-CLASSIFIED_TAIL_CHARS);
        },
      });
    } catch (error) {
      lease.release('unknown');
      throw error;
    }
    if (result.outcome !== StepOutcome.failed || result.exitCode === null) {
      // Success proves the runner; a stop or a killed CLI says nothing about it.
      lease.release(result.outcome === StepOutcome.success ? 'reachable' : 'unknown');
      return { result };
    }
    const failure = classifyEarthlyFailure(result.exitCode, tail, this.rules);
    if (failure.kind === 'build') {
      lease.release('reachable');
      return { result };
    }
    lease.release('connection-failure');
    return { result, evidence: masker.maskText(failure.evidence) };
  }

  /** The binary and TLS files, found and written once; a failure is retried by the next step. */
  private prepare(): Promise<Prepared> {
    this.preparation ??= (async (): Promise<Prepared> => {
      const [binary, tls] = await Promise.all([
        findEarthlyBinary({ binary: this.options.binary, path: this.launcher.baseEnv['PATH'] }),
        this.options.tls?.prepare(),
      ]);
      return { binary, configFile: tls?.configFile, tlsSecretValues: tls?.secretValues ?? [] };
    })().catch((error: unknown) => {
      this.preparation = undefined;
      throw error;
    });
    return this.preparation;
  }
}

/** CLI arguments of one attempt: global flags, secret names, the step's args, then the target. */
function earthlyArguments(
  request: StepRunRequest,
  target: string,
  address: string,
  configFile: string | undefined,
): string[] {
  return [
    '--buildkit-host',
    address,
    ...(configFile === undefined ? [] : ['--config', configFile]),
    ...Object.keys(request.secrets).flatMap((name) => ['--secret', name]),
    ...request.step.args,
    target,
  ];
}

function failed(reason: string, durationMs: number): StepRunResult {
  return { outcome: StepOutcome.failed, exitCode: null, durationMs, reason };
}
