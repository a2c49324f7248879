import type { Step } from '../../core/contracts/discovery-output.js';
import type { BlobAppender, BlobStore } from '../../core/ports/blob-store.js';
import type { StepSecretResolver } from '../executors/secret-resolver.js';

/** What a step needs before its process starts: its open log and its resolved secrets. */
export interface PreparedStep {
  readonly log: Promise<BlobAppender>;
  readonly secrets: Promise<Record<string, string>>;
}

/** Options of {@link StepPreparations}. */
export interface StepPreparationsOptions {
  readonly logs: Pick<BlobStore, 'openAppend'>;
  readonly secrets: Pick<StepSecretResolver, 'resolve'>;
  /** The key of a step's log. */
  readonly logKeyOf: (step: Step) => string;
}

/**
 * Opens steps' logs and resolves their secrets ahead of time, so that a task's first steps
 * need neither once the worktree is ready: the task job handler starts them for the first
 * priority level while the repository is checked out. Neither writes anything a step's
 * record points at (a log opened for a step that never starts stays empty and unrecorded).
 * A preparation that fails is reported by the step that takes it.
 */
export class StepPreparations {
  readonly #options: StepPreparationsOptions;
  readonly #prepared = new Map<string, PreparedStep>();

  constructor(options: StepPreparationsOptions) {
    this.#options = options;
  }

  /** Starts preparing `steps` now. */
  start(steps: readonly Step[]): void {
    for (const step of steps) this.#prepared.set(step.name, this.#prepare(step));
  }

  /** The preparation of `step`: the one started ahead (handed out once), or a new one. */
  take(step: Step): PreparedStep {
    const prepared = this.#prepared.get(step.name);
    this.#prepared.delete(step.name);
    return prepared ?? this.#prepare(step);
  }

  /** Closes the logs of the preparations no step took; idempotent. */
  async discard(): Promise<void> {
    const left = [...this.#prepared.values()];
    this.#prepared.clear();
    await Promise.all(
      left.map((prepared) => prepared.log.then((log) => log.close()).catch(() => undefined)),
    );
  }

  #prepare(step: Step): PreparedStep {
    const log = this.#options.logs.openAppend(this.#options.logKeyOf(step), {
      contentType: 'text/plain; charset=utf-8',
    });
    const secrets = this.#options.secrets.resolve(step);
    // Whoever takes the preparation awaits both; until then a failure is not unhandled.
    log.catch(() => undefined);
    secrets.catch(() => undefined);
    return { log, secrets };
  }
}
