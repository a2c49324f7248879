import { z } from 'zod';
import { StepSchema, type Step } from '../core/contracts/discovery-output.js';
import {
  artifactJobId,
  discoveryJobId,
  JobMessageSchema,
  releaseJobId,
  taskJobId,
  type JobMessageOf,
} from '../core/contracts/jobs.js';
import { errorMessage } from '../core/errors.js';
import { JobType } from '../core/statuses.js';
import { DispatchInputError } from './dispatcher-errors.js';

/** What every job of a run works on: the run, the repository and the commit. */
export interface JobSource {
  readonly runId: string;
  /** `owner/name`. */
  readonly repository: string;
  readonly cloneUrl: string;
  readonly commit: string;
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
  /** When the job must be finished; workers stop it then. */
  readonly deadline: Date;
}

/** What a task job runs: one project's steps for one phase. */
export interface TaskInput {
  readonly phase: string;
  readonly project: string;
  readonly projectPath: string;
  readonly steps: readonly Step[];
}

/** The message of a run's discovery job. */
export function discoveryMessage(source: JobSource): JobMessageOf<typeof JobType.discovery> {
  return checked(JobType.discovery, {
    ...common(source, () => discoveryJobId(source.runId)),
    type: JobType.discovery,
    payload: {},
  });
}

/** The message of the job that runs one project's steps for one phase. */
export function taskMessage(source: JobSource, task: TaskInput): JobMessageOf<typeof JobType.task> {
  return checked(JobType.task, {
    ...common(source, () => taskJobId(source.runId, task.phase, task.project)),
    type: JobType.task,
    payload: {
      phase: task.phase,
      project: { name: task.project, path: task.projectPath },
      steps: task.steps.map((step) => ({ ...step })),
    },
  });
}

/**
 * The messages of a release: one job per project (`<run>/release/<project>`), so each
 * project's release has its own deterministic id, record and retry.
 */
export function releaseMessages(
  source: JobSource,
  projects: readonly string[],
): JobMessageOf<typeof JobType.release>[] {
  if (projects.length === 0) throw new DispatchInputError('a release names at least one project');
  const unique = [...new Set(projects)];
  return unique.map((project) =>
    checked(JobType.release, {
      ...common(source, () => releaseJobId(source.runId, project)),
      type: JobType.release,
      payload: { projects: [project] },
    }),
  );
}

/** The message of a project's artifact job. */
export function artifactMessage(
  source: JobSource,
  project: string,
): JobMessageOf<typeof JobType.artifact> {
  return checked(JobType.artifact, {
    ...common(source, () => artifactJobId(source.runId, project)),
    type: JobType.artifact,
    payload: { project },
  });
}

/**
 * Parses steps given as JSON text (`--steps`, or the content of `--steps-file`): an array of
 * steps as discovery outputs them. `origin` names where the text came from, for the error.
 */
export function parseSteps(text: string, origin: string): Step[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DispatchInputError(`${origin} is not JSON: ${errorMessage(error)}`);
  }
  const steps = z.array(StepSchema).min(1).safeParse(json);
  if (!steps.success) {
    throw new DispatchInputError(
      `${origin} is not a list of steps: ${singleLine(z.prettifyError(steps.error))}`,
    );
  }
  return steps.data;
}

function common(source: JobSource, jobId: () => string) {
  let job_id: string;
  try {
    job_id = jobId();
  } catch (error) {
    throw new DispatchInputError(errorMessage(error));
  }
  return {
    job_id,
    run_id: source.runId,
    repository: { name: source.repository, clone_url: source.cloneUrl },
    commit_sha: source.commit,
    ...(source.branch === undefined ? {} : { branch: source.branch }),
    ...(source.tag === undefined ? {} : { tag: source.tag }),
    deadline: source.deadline.toISOString(),
  };
}

function checked<T extends JobType>(type: T, message: unknown): JobMessageOf<T> {
  const parsed = JobMessageSchema.safeParse(message);
  if (!parsed.success) {
    throw new DispatchInputError(
      `invalid ${type} job: ${singleLine(z.prettifyError(parsed.error))}`,
    );
  }
  return parsed.data as JobMessageOf<T>;
}

function singleLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}
