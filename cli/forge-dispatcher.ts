#!/usr/bin/env node
/**
 * `forge-dispatcher`: what Argo runs in dispatcher pods. Each command submits one kind of job
 * to its worker pool's queue (idempotently: Argo may retry a dispatcher at any point), waits
 * for the job to end, and writes the files Argo reads as output parameters. Exit codes: 0 the
 * job completed, 1 it failed, was cancelled, ran past its deadline or the dispatcher was
 * stopped (SIGTERM, after requesting the job's cancellation), 2 a usage or configuration error,
 * 3 a failure a retry may fix (the job plane unreachable, or SIGTERM with `--on-sigterm detach`,
 * which leaves the job running for the retry to attach to).
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { parseDurationSeconds } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import type { JobPlane } from '../core/ports/job-plane.js';
import { DispatcherError, DispatchInputError } from '../dispatcher/dispatcher-errors.js';
import { jsonLinesLogger, type DispatcherLogger } from '../dispatcher/dispatcher-logger.js';
import { assertDispatcherMode, openDispatcherPlane } from '../dispatcher/dispatcher-plane.js';
import { cancelRunJobs } from '../dispatcher/cancel-run-jobs.js';
import { loadDiscoveredTask } from '../dispatcher/discovered-task.js';
import { dispatchFailingFast } from '../dispatcher/fail-fast.js';
import { isRetryableFailure } from '../dispatcher/retryable-failure.js';
import {
  artifactMessage,
  discoveryMessage,
  parseSteps,
  releaseMessages,
  taskMessage,
  type JobSource,
  type TaskInput,
} from '../dispatcher/job-messages.js';
import { runDispatch, type DispatchRequest } from '../dispatcher/run-dispatch.js';
import { ExitCode, UsageError, runCli } from './run-cli.js';

/** How long each kind of job may run unless `--timeout` says otherwise, in seconds. */
const DEFAULT_TIMEOUTS = { discovery: 900, task: 7200, release: 3600, artifact: 3600 } as const;
/** The dispatcher waits this long past the job's deadline for the worker to record its end. */
const DEADLINE_GRACE_MS = 60_000;
/** After SIGTERM, the process exits by this time even if the cancel request hangs. */
const FORCED_EXIT_MS = 15_000;

interface JobFlags {
  runId: string;
  repository: string;
  cloneUrl: string;
  commit: string;
  branch?: string;
  tag?: string;
  output: string;
  timeout: number;
  onSigterm: SigtermAction;
}

/** What SIGTERM does: cancel the job (the default), or leave it running for a retry. */
type SigtermAction = 'cancel' | 'detach';

interface DiscoveryFlags extends JobFlags {
  outputPhaseGroups?: string;
  outputReleaseProjects?: string;
  outputTaskGroups?: string;
  outputGroupItems?: string;
  outputGroupTasks?: string;
  outputReleaseEnabled?: string;
}

interface TaskFlags extends JobFlags {
  phase: string;
  project: string;
  projectPath?: string;
  steps?: string;
  stepsFile?: string;
  fromDiscovery?: boolean;
}

/** A command with the flags every job shares: the run, the source, the output, the deadline. */
function jobCommand(name: keyof typeof DEFAULT_TIMEOUTS, description: string): Command {
  return new Command(name)
    .description(description)
    .requiredOption('--run-id <id>', 'the pipeline run the job belongs to')
    .requiredOption('--repository <owner/name>', 'the GitHub repository')
    .requiredOption('--clone-url <url>', 'where workers fetch the repository from')
    .requiredOption('--commit <sha>', 'the full commit SHA to work on')
    .option('--branch <name>', 'the branch the run is for')
    .option('--tag <tag>', 'the tag the run is for')
    .requiredOption('--output <file>', 'where to write the outcome, for Argo')
    .option(
      '--timeout <duration>',
      'how long the job may take: seconds, or a duration such as "90s", "30m", "1h30m"',
      parseTimeout,
      DEFAULT_TIMEOUTS[name],
    )
    .option(
      '--on-sigterm <action>',
      'on SIGTERM, "cancel" the job and exit 1, or "detach": leave it running and exit 3 (Argo ' +
        'retries the pod, which attaches to the job again; for evictions)',
      parseSigtermAction,
      'cancel' satisfies SigtermAction,
    );
}

function discoveryCommand(): Command {
  return jobCommand('discovery', 'discover the projects of the commit; writes the discovery output')
    .option('--output-phase-groups <file>', 'also write just `phaseGroups`, a JSON array')
    .option('--output-release-projects <file>', 'also write just `releaseProjects`, a JSON array')
    .option('--output-task-groups <file>', 'also write each phase group with its tasks, for loops')
    .option('--output-group-items <file>', 'also write one small loop item per phase group')
    .option('--output-group-tasks <file>', "also write each group's tasks as phase and project")
    .option('--output-release-enabled <file>', 'also write just `releaseEnabled`, true or false')
    .action((flags: DiscoveryFlags) =>
      execute(flags, 'discovery', { failFast: false }, (source) => ({
        type: 'discovery',
        message: discoveryMessage(source),
        files: {
          output: flags.output,
          phaseGroups: flags.outputPhaseGroups,
          releaseProjects: flags.outputReleaseProjects,
          taskGroups: flags.outputTaskGroups,
          groupItems: flags.outputGroupItems,
          groupTasks: flags.outputGroupTasks,
          releaseEnabled: flags.outputReleaseEnabled,
        },
      })),
    );
}

function taskCommand(): Command {
  return jobCommand('task', "run one project's steps for one phase; writes the job summary")
    .requiredOption('--phase <name>', 'the phase')
    .requiredOption('--project <name>', 'the project')
    .option('--project-path <path>', 'the project folder in the repository ("." for root)')
    .option('--steps <json>', 'the steps, a JSON array as discovery outputs them')
    .option('--steps-file <file>', 'a file holding the steps JSON (instead of --steps)')
    .option(
      '--from-discovery',
      "take the project folder and steps from the run's discovery output (what Argo does)",
    )
    .action(async (flags: TaskFlags) => {
      const { phase, project } = flags;
      const request = (source: JobSource, task: TaskInput): DispatchRequest => ({
        type: 'task',
        message: taskMessage(source, task),
        output: flags.output,
      });
      if (flags.fromDiscovery === true) {
        if (flags.projectPath !== undefined || flags.steps !== undefined || flags.stepsFile) {
          throw new UsageError(
            '--from-discovery replaces --project-path, --steps and --steps-file',
          );
        }
        // The flags are checked with no steps yet; the dispatch loads the task from discovery.
        const placeholder = { phase, project, projectPath: '.', steps: [] };
        await execute(
          flags,
          'task',
          {
            failFast: true,
            complete: async (plane, source) =>
              request(source, await loadDiscoveredTask(plane, flags.runId, phase, project)),
          },
          (source) => request(source, placeholder),
        );
        return;
      }
      if (flags.projectPath === undefined) {
        throw new UsageError('give --project-path with the steps, or --from-discovery');
      }
      const projectPath = flags.projectPath;
      const [text, origin] = await stepsText(flags);
      const steps = asUsage(() => parseSteps(text, origin));
      await execute(flags, 'task', { failFast: true }, (source) =>
        request(source, { phase, project, projectPath, steps }),
      );
    });
}

function releaseCommand(): Command {
  return jobCommand('release', 'release projects, one job each; writes the release summary')
    .requiredOption('--projects <names>', 'comma-separated project names', parseList)
    .action((flags: JobFlags & { projects: string[] }) =>
      execute(flags, 'release', { failFast: true }, (source) => ({
        type: 'release',
        messages: releaseMessages(source, flags.projects),
        output: flags.output,
      })),
    );
}

function artifactCommand(): Command {
  return jobCommand('artifact', "build a project's artifacts; writes the job summary")
    .requiredOption('--project <name>', 'the project')
    .action((flags: JobFlags & { project: string }) =>
      execute(flags, 'artifact', { failFast: true }, (source) => ({
        type: 'artifact',
        message: artifactMessage(source, flags.project),
        output: flags.output,
      })),
    );
}

/**
 * Builds the request from the flags (a bad value is a usage error, before anything is
 * contacted), opens the job plane, and dispatches until the job ends or a signal stops it.
 */
async function execute(
  flags: JobFlags,
  name: string,
  options: {
    failFast: boolean;
    /** Builds the request once the job plane is open, from what it holds (checked by `build`). */
    complete?: (plane: JobPlane, source: JobSource) => Promise<DispatchRequest>;
  },
  build: (source: JobSource) => DispatchRequest,
): Promise<void> {
  const jobDeadline = new Date(Date.now() + flags.timeout * 1000);
  const source: JobSource = {
    runId: flags.runId,
    repository: flags.repository,
    cloneUrl: flags.cloneUrl,
    commit: flags.commit,
    branch: flags.branch,
    tag: flags.tag,
    deadline: jobDeadline,
  };
  const checked = asUsage(() => build(source));
  assertDispatcherMode();
  const logger = jsonLinesLogger();
  const stop = stopOnSignals(logger, flags.onSigterm);
  try {
    const plane = await openDispatcherPlane();
    try {
      logger.info(`dispatching ${name} job`, { deadline: jobDeadline.toISOString() });
      const request = options.complete ? await options.complete(plane, source) : checked;
      const dispatch = () =>
        runDispatch({
          plane,
          request,
          deadline: new Date(jobDeadline.getTime() + DEADLINE_GRACE_MS),
          signal: stop.signal,
          logger,
        });
      if (options.failFast) {
        await dispatchFailingFast({ jobs: plane.jobs, runId: flags.runId, logger }, dispatch);
      } else {
        await dispatch();
      }
    } finally {
      await plane.close();
    }
  } finally {
    stop.dispose();
  }
}

/**
 * Turns SIGTERM (Argo stopping the workflow) and SIGINT into an abort: the dispatch requests
 * its job's cancellation and fails. A second signal, or {@link FORCED_EXIT_MS}, exits at once.
 * With `detach`, SIGTERM instead exits 3 at once and leaves the job to its worker: Kubernetes
 * sends the same SIGTERM to an evicted pod as to a stopped workflow's, and the retry of an
 * evicted dispatcher attaches to its job again by its id (a stopped workflow's exit handler
 * cancels the run's jobs).
 */
function stopOnSignals(
  logger: DispatcherLogger,
  onSigterm: SigtermAction,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGTERM' && onSigterm === 'detach') {
      logger.warn('stopping: the job stays with its worker; a retry attaches to it', { signal });
      process.exit(ExitCode.retryable);
    }
    if (controller.signal.aborted) process.exit(ExitCode.failure);
    logger.warn('stopping: requesting the job cancellation', { signal });
    controller.abort(signal);
    setTimeout(() => process.exit(ExitCode.failure), FORCED_EXIT_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

async function stepsText(flags: TaskFlags): Promise<[string, string]> {
  if ((flags.steps === undefined) === (flags.stepsFile === undefined)) {
    throw new UsageError('give the steps with exactly one of --steps and --steps-file');
  }
  if (flags.steps !== undefined) return [flags.steps, '--steps'];
  const file = flags.stepsFile as string;
  try {
    return [await readFile(file, 'utf8'), `--steps-file ${file}`];
  } catch (error) {
    throw new UsageError(`--steps-file ${file}: ${errorMessage(error)}`);
  }
}

function asUsage<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof DispatchInputError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function parseSigtermAction(value: string): SigtermAction {
  if (value === 'cancel' || value === 'detach') return value;
  throw new InvalidArgumentError('must be "cancel" or "detach"');
}

function parseTimeout(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    throw new InvalidArgumentError('must be whole seconds or a duration such as "90s", "1h30m"');
  }
  return seconds;
}

/**
 * `forge-dispatcher cancel-run`: what a run's workflow runs when it ends unsuccessfully (its
 * exit handler): asks every job of the run still pending or running to stop. Exits 3 when a
 * request could not be made, so Argo tries again.
 */
function cancelRunCommand(): Command {
  return new Command('cancel-run')
    .description("ask every unfinished job of a run to stop (the workflow's exit handler)")
    .requiredOption('--run-id <id>', 'the pipeline run')
    .option('--reason <text>', 'why, for the log', 'the run was stopped')
    .action(async (flags: { runId: string; reason: string }) => {
      assertDispatcherMode();
      const logger = jsonLinesLogger();
      const plane = await openDispatcherPlane();
      try {
        const outcome = await cancelRunJobs({ ...flags, jobs: plane.jobs, logger });
        if (outcome.failed.length > 0) {
          throw new DispatcherError(
            `could not request the cancellation of ${outcome.failed.length} job(s) of run ` +
              `${flags.runId}: ${outcome.failed.map(({ jobId, error }) => `${jobId}: ${error}`).join('; ')}`,
            { retryable: true },
          );
        }
      } finally {
        await plane.close();
      }
    });
}

function parseList(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

const program = new Command('forge-dispatcher')
  .description('submit a job to a worker pool and wait for its outcome (what Argo runs)')
  .addHelpText(
    'after',
    '\nNeeds FORGE_MODE=aws and the FORGE_ job plane variables (docs/configuration.md).\n' +
      'Exit codes: 0 completed; 1 failed, cancelled, past its deadline or stopped; 2 usage;\n' +
      '3 a failure a retry may fix (job plane unreachable; SIGTERM with --on-sigterm detach).',
  )
  .addCommand(discoveryCommand())
  .addCommand(taskCommand())
  .addCommand(releaseCommand())
  .addCommand(artifactCommand())
  .addCommand(cancelRunCommand());

await runCli(program, process.argv, (error) =>
  isRetryableFailure(error) ? ExitCode.retryable : undefined,
);
