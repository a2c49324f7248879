import { StepActionUnsupportedError } from './executor-errors.js';
import { StepProcessLauncher, type StepProcessSettings } from './step-process-launcher.js';
import type { StepExecutor, StepRunRequest, StepRunResult } from './step-executor.js';

/** Options of a {@link ShellExecutor}; all optional. */
export interface ShellExecutorOptions extends StepProcessSettings {
  /** The shell; default `/bin/sh` (run as `<shell> -c <run>`). */
  readonly shell?: string;
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
  private readonly launcher: StepProcessLauncher;

  constructor(options: ShellExecutorOptions = {}) {
    this.launcher = new StepProcessLauncher(options);
    this.shell = options.shell ?? '/bin/sh';
  }

  async run(request: StepRunRequest): Promise<StepRunResult> {
    const { step } = request;
    if (step.action !== 'shell') {
      throw new StepActionUnsupportedError(step.name, step.action, 'the shell executor');
    }
    return this.launcher.run(request, {
      file: this.shell,
      args: ['-c', step.run],
      timeoutMs: request.timeoutSeconds * 1000,
      masker: this.launcher.masker(request),
    });
  }
}
