import { join } from 'node:path';
import { z } from 'zod';
import { StepSchema, type Step } from '../../core/contracts/discovery-output.js';
import type { JobMessageOf, StepProgress } from '../../core/contracts/jobs.js';
import { errorMessage } from '../../core/errors.js';
import { stepLogKey, stepResultKey, taskResultPrefix } from '../../core/job-plane/blob-keys.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { ExecutionStatus } from '../../core/statuses.js';
import type { StepSecretResolver } from '../executors/secret-resolver.js';
import type { StepExecutor, StepRunResult } from '../executors/step-executor.js';
import type { CheckoutRequest, RepositoryCheckout } from '../repository-cache/index.js';
import type { JobContext, JobHandler } from '../runtime/job-handler.js';
import { StepPreparations } from './step-preparations.js';

export interface TaskJobHandlerOptions {
  /** Worktrees of the job's commit (the repository cache). */
  readonly repositories: { checkout(request: CheckoutRequest): Promise<RepositoryCheckout> };
  /** Runs the steps: a `RoutingStepExecutor` over the actions this worker supports. */
  readonly executor: StepExecutor;
  readonly secrets: Pick<StepSecretResolver, 'resolve'>;
  /** Where step logs are appended while the steps run. */
  readonly logs: BlobStore;
  /** Where each step's result goes. */
  readonly results: BlobStore;
  /** Seconds a step may run when neither it nor its phase says; default 1 hour. */
  readonly defaultStepTimeoutSeconds?: number;
}

/** What a step's result object records (`<run>/phases/<phase>/<project>/<step>.json`). */
interface StepResultDocument {
  readonly step: string;
  readonly status: ExecutionStatus;
  readonly exit_code: number | null;
  readonly duration_ms: number;
  readonly reason?: string;
  readonly log: string;
}

const TaskStepsSchema = z.array(StepSchema).min(1);

/**
 * Runs task jobs: one project's steps for one phase in a worktree of the commit. Priority
 * levels run one after another (higher first) and the steps of a level side by side; the
 * first failure stops the rest: running siblings end `cancelled`, steps not started end
 * `skipped`. Each step's output is appended to its log while it runs, and its progress,
 * exit code, duration and log key are recorded as it goes.
 */
export function createTaskJobHandler(options: TaskJobHandlerOptions): JobHandler {
  return async (message, context) => {
    if (message.type !== 'task') {
      return { status: 'failed', error: `a task worker cannot run ${message.type} jobs` };
    }
    const parsed = TaskStepsSchema.safeParse(message.payload.steps);
    if (!parsed.success) {
      return {
        status: 'failed',
        error: `the job's steps are invalid: ${parsed.error.issues[0]?.message}`,
      };
    }
    const { run_id: runId, payload } = message;
    const levels = priorityLevels(parsed.data);
    // The first level's logs and secrets are made ready while the worktree is.
    const preparations = new StepPreparations({
      logs: options.logs,
      secrets: options.secrets,
      logKeyOf: (step) => stepLogKey(runId, payload.phase, payload.project.name, step.name),
    });
    preparations.start(levels[0] ?? []);
    let checkout: RepositoryCheckout;
    try {
      checkout = await options.repositories.checkout({
        url: message.repository.clone_url,
        commit: message.commit_sha,
        jobId: message.job_id,
        signal: context.signal,
      });
    } catch (error) {
      await preparations.discard();
      throw error;
    }
    try {
      const workdir = join(checkout.path, payload.project.path);
      const run = new TaskRun(options, message, context, workdir, preparations);
      const failure = await run.runAll(levels);
      const resultLocation = options.results.locationOf(
        taskResultPrefix(message.run_id, message.payload.phase, message.payload.project.name),
      );
      if (failure === undefined) return { status: 'completed', resultLocation };
      if (context.signal.aborted) return { status: 'cancelled', reason: failure };
      return { status: 'failed', error: failure, resultLocation };
    } finally {
      await preparations.discard();
      // The worktree goes back to the cache once the outcome is recorded.
      context.afterOutcome(() => checkout.release());
    }
  };
}

/** One task job's steps, run level by level. */
class TaskRun {
  constructor(
    private readonly options: TaskJobHandlerOptions,
    private readonly message: JobMessageOf<'task'>,
    private readonly context: JobContext,
    private readonly workdir: string,
    private readonly preparations: StepPreparations,
  ) {}

  /** Runs every level; returns why the task failed, or `undefined` when every step succeeded. */
  async runAll(levels: readonly (readonly Step[])[]): Promise<string | undefined> {
    let failure: string | undefined;
    for (const level of levels) {
      if (failure !== undefined || this.context.signal.aborted) {
        await Promise.all(level.map((step) => this.record(step, { status: 'skipped' })));
        failure ??= 'the task was stopped';
        continue;
      }
      failure = await this.runLevel(level);
    }
    return failure;
  }

  private async runLevel(level: readonly Step[]): Promise<string | undefined> {
    const siblings = new AbortController();
    const signal = AbortSignal.any([this.context.signal, siblings.signal]);
    let failure: string | undefined;
    await Promise.all(
      level.map(async (step) => {
        const result = await this.runStep(step, signal);
        if (
          result.outcome !== 'success' &&
          failure === undefined &&
          result.outcome !== 'cancelled'
        ) {
          failure = `step ${step.name} ${result.outcome === 'timed-out' ? 'timed out' : 'failed'}: ${result.reason ?? 'no reason given'}`;
          siblings.abort(new Error(`sibling step ${step.name} failed`));
        }
      }),
    );
    if (failure === undefined && this.context.signal.aborted) return 'the task was stopped';
    return failure;
  }

  private async runStep(step: Step, signal: AbortSignal): Promise<StepRunResult> {
    const { run_id: runId, payload } = this.message;
    const logKey = stepLogKey(runId, payload.phase, payload.project.name, step.name);
    const startedAt = new Date();
    // Recording the start, opening the log and resolving secrets do not depend on each other:
    // they run side by side (or the last two ran already), so the process starts sooner.
    const { log: opening, secrets: resolving } = this.preparations.take(step);
    try {
      await this.record(step, {
        status: 'running',
        started_at: startedAt.toISOString(),
        log_key: logKey,
      });
    } catch (error) {
      await opening.then((log) => log.close()).catch(() => undefined);
      throw error;
    }
    const log = await opening;
    let result: StepRunResult;
    try {
      const secrets = await resolving;
      result = await this.options.executor.run({
        step,
        workdir: this.workdir,
        env: {
          FORGE_RUN_ID: runId,
          FORGE_JOB_ID: this.message.job_id,
          FORGE_PHASE: payload.phase,
          FORGE_PROJECT: payload.project.name,
          FORGE_STEP: step.name,
          FORGE_COMMIT_SHA: this.message.commit_sha,
        },
        secrets,
        timeoutSeconds: step.timeout ?? this.options.defaultStepTimeoutSeconds ?? 3600,
        signal,
        output: (chunk) => log.append(chunk),
      });
    } catch (error) {
      const reason = errorMessage(error);
      log.append(`forge: ${reason}\n`);
      result = {
        outcome: 'failed',
        exitCode: null,
        durationMs: Date.now() - startedAt.getTime(),
        reason,
      };
    } finally {
      await log.close();
    }
    const status = STEP_STATUS[result.outcome];
    const document: StepResultDocument = {
      step: step.name,
      status,
      exit_code: result.exitCode,
      duration_ms: Math.round(result.durationMs),
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      log: this.options.logs.locationOf(logKey),
    };
    await this.options.results.put(
      stepResultKey(runId, payload.phase, payload.project.name, step.name),
      JSON.stringify(document),
      { contentType: 'application/json' },
    );
    await this.record(step, {
      status,
      ...(result.exitCode === null ? {} : { exit_code: result.exitCode }),
      started_at: startedAt.toISOString(),
      completed_at: new Date().toISOString(),
      duration_ms: Math.round(result.durationMs),
      log_key: logKey,
    });
    return result;
  }

  private record(step: Step, progress: StepProgress): Promise<void> {
    return this.context.recordStep(step.name, progress);
  }
}

const STEP_STATUS: Readonly<Record<StepRunResult['outcome'], ExecutionStatus>> = {
  success: 'success',
  failed: 'failed',
  'timed-out': 'failed',
  cancelled: 'cancelled',
};

/** Steps grouped by priority, highest first (steps arrive ordered, but are not trusted to). */
export function priorityLevels(steps: readonly Step[]): Step[][] {
  const byPriority = new Map<number, Step[]>();
  for (const step of steps)
    byPriority.set(step.priority, [...(byPriority.get(step.priority) ?? []), step]);
  return [...byPriority.entries()].sort(([a], [b]) => b - a).map(([, level]) => level);
}
