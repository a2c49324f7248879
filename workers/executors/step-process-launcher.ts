import { assertKillGrace, runStepProcess } from './run-step-process.js';
import { SecretMasker } from './secret-masker.js';
import { buildStepEnvironment } from './step-environment.js';
import type { StepRunRequest, StepRunResult } from './step-executor.js';

/** The options every executor of step processes takes; all optional. */
export interface StepProcessSettings {
  /** The worker environment that inherited names are taken from; default `process.env`. */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Names inherited from `baseEnv`; default `DEFAULT_INHERITED_ENV` (PATH, HOME, LANG...). */
  readonly inheritedEnv?: readonly string[];
  /** Milliseconds between SIGTERM and SIGKILL when a step is stopped; default 1000. */
  readonly killGraceMs?: number;
  /** Shortest secret value that is masked in output; default 4. */
  readonly minSecretLength?: number;
}

/** One process a step runs: the program and its arguments, and how long it may take. */
export interface StepCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** Milliseconds this process may run (the step's timeout, or what is left of it). */
  readonly timeoutMs: number;
  /** Masks the output and the reason; from {@link StepProcessLauncher.masker}. */
  readonly masker: SecretMasker;
  /** Also receives the raw, unmasked output (to classify a failure); never write it anywhere. */
  readonly onRawOutput?: (chunk: string) => void;
}

/**
 * What the shell and Earthly executors share about a step's process: it runs in the request's
 * `workdir` with the step's environment (inherited names, the request's `env`, its secrets),
 * its output masked, and is stopped with the configured kill grace. One place, so both kinds
 * of step inherit, mask and stop alike. Checks the settings at construction and does no I/O.
 */
export class StepProcessLauncher {
  /** The worker environment steps inherit from (and the Earthly binary is looked up on). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;

  /** Throws `StepExecutorOptionsError` for a `killGraceMs` that is not a number ≥ 0. */
  constructor(private readonly settings: StepProcessSettings = {}) {
    assertKillGrace(settings.killGraceMs);
    this.baseEnv = settings.baseEnv ?? process.env;
  }

  /** A masker of the request's secrets and of `moreSecrets` (values the executor adds itself). */
  masker(
    request: Pick<StepRunRequest, 'secrets'>,
    moreSecrets: readonly string[] = [],
  ): SecretMasker {
    return new SecretMasker({
      secrets: [...Object.values(request.secrets), ...moreSecrets],
      minLength: this.settings.minSecretLength,
    });
  }

  /** Runs `command` for `request` with `runStepProcess`: every ending is a result. */
  run(request: StepRunRequest, command: StepCommand): Promise<StepRunResult> {
    return runStepProcess({
      spec: {
        file: command.file,
        args: command.args,
        cwd: request.workdir,
        env: buildStepEnvironment({
          baseEnv: this.baseEnv,
          request,
          inheritedNames: this.settings.inheritedEnv,
        }),
      },
      request,
      masker: command.masker,
      timeoutMs: command.timeoutMs,
      killGraceMs: this.settings.killGraceMs,
      onRawOutput: command.onRawOutput,
    });
  }
}
