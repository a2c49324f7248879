import { StepActionUnsupportedError } from './executor-errors.js';
import { assertKillGrace, runStepProcess } from './run-step-process.js';
import { SecretMasker } from './secret-masker.js';
import { buildStepEnvironment } from './step-environment.js';
import type { StepExecutor, StepRunRequest, StepRunResult } from './step-executor.js';

/** Options of a {@link ShellExecutor}; all optional. */
export interface ShellExecutorOptions {
  /** The shell; default `/bin/sh` (run as `<shell> -c <run>`). */
  readonly shell?: string;
  /** The worker environment that inherited names are taken from; default `process.env`. */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Names inherited from `baseEnv`; default `DEFAULT_INHERITED_ENV` (PATH, HOME, LANG...). */
  readonly inheritedEnv?: readonly string[];
  /** Milliseconds between SIGTERM and SIGKILL when a step is stopped; default 1000. */
  readonly killGraceMs?: number;
  /** Shortest secret value that is masked in output; default 4. */
  readonly minSecretLength?: number;
}

/**
 * Runs `shell` steps: `/bin/sh -c <run>` in the request's `workdir`, with a minimal inherited
 * environment plus the request's `env` and secrets, as the leader of its own process group.
 * Output is streamed, secrets masked, to `request.output`; a timeout or an abort stops the whole
 * group (SIGTERM, then SIGKILL after the grace), and the group's leftovers are stopped when the
 * shell exits, so nothing outlives the step.
 */
export class ShellExecutor implements StepExecutor {
  private readonly shell: string;
  private readonly baseEnv: Readonly<Record<string, string | undefined>>;

  constructor(private readonly options: ShellExecutorOptions = {}) {
    assertKillGrace(options.killGraceMs);
    this.shell = options.shell ?? '/bin/sh';
    this.baseEnv = options.baseEnv ?? process.env;
  }

  async run(request: StepRunRequest): Promise<StepRunResult> {
    const { step } = request;
    if (step.action !== 'shell') {
      throw new StepActionUnsupportedError(step.name, step.action, 'the shell executor');
    }
    const masker = new SecretMasker({
      secrets: Object.values(request.secrets),
      minLength: this.options.minSecretLength,
    });
    return runStepProcess({
      spec: {
        file: this.shell,
        args: ['-c', step.run],
        cwd: request.workdir,
        env: buildStepEnvironment({
          baseEnv: this.baseEnv,
          request,
          inheritedNames: this.options.inheritedEnv,
        }),
      },
      request,
      masker,
      timeoutMs: request.timeoutSeconds * 1000,
      killGraceMs: this.options.killGraceMs,
    });
  }
}
