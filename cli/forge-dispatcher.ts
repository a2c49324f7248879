#!/usr/bin/env node
/**
 * `forge-dispatcher`: what Argo runs in dispatcher pods. Each command submits one kind of job
 * to its worker pool's queue (idempotently: Argo may retry a dispatcher at any point), waits
 * for the job to end, and writes the files Argo reads as output parameters. Exit codes: 0 the
 * job completed, 1 it failed, was cancelled, ran past its deadline or the dispatcher was
 * stopped (SIGTERM, after requesting the job's cancellation), 2 a usage or configuration error.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { parseDurationSeconds } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { DispatchInputError } from '../dispatcher/dispatcher-errors.js';
import { jsonLinesLogger, type DispatcherLogger } from '../dispatcher/dispatcher-logger.js';
import { assertDispatcherMode, openDispatcherPlane } from '../dispatcher/dispatcher-plane.js';
import {
  artifactMessage,
  discoveryMessage,
  parseSteps,
  releaseMessages,
  taskMessage,
  type JobSource,
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
}

interface DiscoveryFlags extends JobFlags {
  outputPhaseGroups?: string;
  outputReleaseProjects?: string;
  outputTaskGroups?: string;
}

interface TaskFlags extends JobFlags {
  phase: string;
  project: string;
  projectPath: string;
  steps?: string;
  stepsFile?: string;
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
    );
}

function discoveryCommand(): Command {
  return jobCommand('discovery', 'discover the projects of the commit; writes the discovery output')
    .option('--output-phase-groups <file>', 'also write just `phaseGroups`, a JSON array')
    .option('--output-release-projects <file>', 'also write just `releaseProjects`, a JSON array')
    .option('--output-task-groups <file>', 'also write each phase group with its tasks, for loops')
    .action((flags: DiscoveryFlags) =>
      execute(flags, 'discovery', (source) => ({
        type: 'discovery',
        message: discoveryMessage(source),
        files: {
          output: flags.output,
          phaseGroups: flags.outputPhaseGroups,
          releaseProjects: flags.outputReleaseProjects,
          taskGroups: flags.outputTaskGroups,
        },
      })),
    );
}

function taskCommand(): Command {
  return jobCommand('task', "run one project's steps for one phase; writes the job summary")
    .requiredOption('--phase <name>', 'the phase')
    .requiredOption('--project <name>', 'the project')
    .requiredOption('--project-path <path>', 'the project folder in the repository ("." for root)')
    .option('--steps <json>', 'the steps, a JSON array as discovery outputs them')
    .option('--steps-file <file>', 'a file holding the steps JSON (instead of --steps)')
    .action(async (flags: TaskFlags) => {
      const [text, origin] = await stepsText(flags);
      const steps = asUsage(() => parseSteps(text, origin));
      await execute(flags, 'task', (source) => ({
        type: 'task',
        message: taskMessage(source, {
          phase: flags.phase,
          project: flags.project,
          projectPath: flags.projectPath,
          steps,
        }),
        output: flags.output,
      }));
    });
}

function releaseCommand(): Command {
  return jobCommand('release', 'release projects, one job each; writes the release summary')
    .requiredOption('--projects <names>', 'comma-separated project names', parseList)
    .action((flags: JobFlags & { projects: string[] }) =>
      execute(flags, 'release', (source) => ({
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
      execute(flags, 'artifact', (source) => ({
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
  build: (source: JobSource) => DispatchRequest,
): Promise<void> {
  const jobDeadline = new Date(Date.now() + flags.timeout * 1000);
  const request = asUsage(() =>
    build({
      runId: flags.runId,
      repository: flags.repository,
      cloneUrl: flags.cloneUrl,
      commit: flags.commit,
      branch: flags.branch,
      tag: flags.tag,
      deadline: jobDeadline,
    }),
  );
  assertDispatcherMode();
  const logger = jsonLinesLogger();
  const stop = stopOnSignals(logger);
  try {
    const plane = await openDispatcherPlane();
    try {
      logger.info(`dispatching ${name} job`, { deadline: jobDeadline.toISOString() });
      await runDispatch({
        plane,
        request,
        deadline: new Date(jobDeadline.getTime() + DEADLINE_GRACE_MS),
        signal: stop.signal,
        logger,
      });
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
 */
function stopOnSignals(logger: DispatcherLogger): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
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

function parseTimeout(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) {
    throw new InvalidArgumentError('must be whole seconds or a duration such as "90s", "1h30m"');
  }
  return seconds;
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
      'Exit codes: 0 completed; 1 failed, cancelled, past its deadline or stopped; 2 usage.',
  )
  .addCommand(discoveryCommand())
  .addCommand(taskCommand())
  .addCommand(releaseCommand())
  .addCommand(artifactCommand());

await runCli(program);
