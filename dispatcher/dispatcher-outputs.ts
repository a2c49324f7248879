import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { z } from 'zod';
import {
  DiscoveryOutputSchema,
  type DiscoveryOutput,
  type Step,
} from '../core/contracts/discovery-output.js';
import type { JobRecord, StepProgress } from '../core/contracts/jobs.js';
import { errorMessage } from '../core/errors.js';
import { parseBlobLocation } from '../core/job-plane/blob-keys.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import { JobStatus } from '../core/statuses.js';
import { DispatchedJobFailedError, DispatchResultError } from './dispatcher-errors.js';

/** The slice of the results bucket the dispatcher reads. */
export type ResultReader = Pick<BlobStore, 'bucket' | 'get'>;

/** The longest job error that goes into a failure line; Argo shows it as the step's message. */
const MAX_REASON_CHARS = 1000;

/**
 * What a task, artifact or release dispatcher writes at `--output`: the job's outcome and the
 * per-step progress its worker recorded. Absent fields are `null`, so Argo's JSON paths always
 * find them.
 */
export interface JobSummary {
  readonly job_id: string;
  readonly status: JobRecord['status'];
  readonly result_location: string | null;
  readonly steps: Readonly<Record<string, StepProgress>>;
  readonly error: string | null;
}

/** What a release dispatcher writes: one summary per project's job, and the worst status. */
export interface ReleaseSummary {
  readonly status: JobRecord['status'];
  readonly jobs: readonly JobSummary[];
}

/** One project's steps for one phase, as a task dispatcher takes them. */
export interface TaskEntry {
  readonly phase: string;
  readonly project: string;
  readonly projectPath: string;
  readonly steps: readonly Step[];
}

/** A phase group with the tasks it runs, for Argo to loop over (groups in order, tasks in parallel). */
export interface TaskGroup {
  readonly group: number;
  readonly phases: readonly string[];
  readonly tasks: readonly TaskEntry[];
}

/** The files a discovery dispatcher writes; only `output` is required. */
export interface DiscoveryOutputFiles {
  /** The whole discovery output. */
  readonly output: string;
  /** Just `phaseGroups`, a JSON array. */
  readonly phaseGroups?: string | undefined;
  /** Just `releaseProjects`, a JSON array of names. */
  readonly releaseProjects?: string | undefined;
  /** {@link taskGroups} of the output, a JSON array. */
  readonly taskGroups?: string | undefined;
  /** {@link groupItems} of the output, a JSON array. */
  readonly groupItems?: string | undefined;
  /** {@link groupTasks} of the output, a JSON array. */
  readonly groupTasks?: string | undefined;
  /** Just `releaseEnabled`: `true` or `false`. */
  readonly releaseEnabled?: string | undefined;
}

/** A phase group as one small loop item: its position in `phaseGroups`, number and phases. */
export interface GroupItem {
  readonly index: number;
  readonly group: number;
  readonly phases: readonly string[];
}

/** A task named by its phase and project only; its dispatcher reads the rest from discovery. */
export interface TaskKey {
  readonly phase: string;
  readonly project: string;
}

/** The summary of a job's record, as written at `--output`. */
export function jobSummary(record: JobRecord): JobSummary {
  return {
    job_id: record.job_id,
    status: record.status,
    result_location: record.result_location ?? null,
    steps: record.steps ?? {},
    error: record.error ?? null,
  };
}

/** The summary of a release's jobs; its status is `completed` only when every job completed. */
export function releaseSummary(records: readonly JobRecord[]): ReleaseSummary {
  const rank = { completed: 0, cancelled: 1, failed: 2, running: 3, pending: 3 } as const;
  const status = records.reduce<JobRecord['status']>(
    (worst, record) => (rank[record.status] > rank[worst] ? record.status : worst),
    JobStatus.completed,
  );
  return { status, jobs: records.map(jobSummary) };
}

/**
 * The tasks of each phase group: for every phase of the group, one entry per project with
 * steps in that phase (projects in discovery order, by path). Groups without tasks stay, so the
 * list lines up with `phaseGroups`.
 */
export function taskGroups(output: DiscoveryOutput): TaskGroup[] {
  return output.phaseGroups.map(({ group, phases }) => ({
    group,
    phases,
    tasks: phases.flatMap((phase) =>
      output.projects.flatMap((project) => {
        const steps = project.phases[phase] ?? [];
        return steps.length === 0
          ? []
          : [{ phase, project: project.name, projectPath: project.path, steps }];
      }),
    ),
  }));
}

/**
 * One item per phase group, in `phaseGroups` order, without its tasks: what Argo loops over to
 * run the groups one by one. Argo names a loop's nodes after their items, and a child's name
 * contains its parent's, so the items stay small; each group's tasks are looked up in
 * {@link groupTasks} by `index`.
 */
export function groupItems(output: DiscoveryOutput): GroupItem[] {
  return output.phaseGroups.map(({ group, phases }, index) => ({ index, group, phases }));
}

/**
 * The tasks of each phase group (as {@link taskGroups} lists them), named by phase and project
 * only: what Argo's loop over a group's tasks carries. Nothing a repository author wrote besides
 * kebab-case names goes through Argo, which substitutes `{{...}}` in values more than once; each
 * task's dispatcher reads its folder and steps from the run's discovery output.
 */
export function groupTasks(output: DiscoveryOutput): TaskKey[][] {
  return taskGroups(output).map(({ tasks }) =>
    tasks.map(({ phase, project }) => ({ phase, project })),
  );
}

/**
 * Throws {@link DispatchedJobFailedError} for the first record that did not complete, with
 * its error on one line, so the command line exits 1 with the job's reason.
 */
export function assertJobsCompleted(records: readonly JobRecord[]): void {
  const unsuccessful = records.find((record) => record.status !== JobStatus.completed);
  if (unsuccessful === undefined) return;
  throw new DispatchedJobFailedError(
    unsuccessful.job_id,
    unsuccessful.status,
    oneLine(unsuccessful.error ?? 'no reason was recorded'),
  );
}

/**
 * Reads a completed discovery job's output from the results bucket (the record's
 * `result_location`) and checks it against the discovery output contract.
 */
export async function readDiscoveryResult(
  results: ResultReader,
  record: JobRecord,
): Promise<DiscoveryOutput> {
  const location = record.result_location;
  if (location === undefined) {
    throw new DispatchResultError(`job ${record.job_id} completed without a result_location`);
  }
  const parsed = parseBlobLocation(location);
  if (parsed === undefined || parsed.bucket !== results.bucket) {
    throw new DispatchResultError(
      `job ${record.job_id} recorded its result at ${location}, not in the results bucket ${results.bucket}`,
    );
  }
  const body = await results.get(parsed.key);
  if (body === undefined) {
    throw new DispatchResultError(`the result of job ${record.job_id} is missing at ${location}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (error) {
    throw new DispatchResultError(`the result at ${location} is not JSON: ${errorMessage(error)}`);
  }
  const output = DiscoveryOutputSchema.safeParse(json);
  if (!output.success) {
    throw new DispatchResultError(
      `the result at ${location} is not a discovery output: ${oneLine(z.prettifyError(output.error))}`,
    );
  }
  return output.data;
}

/** Writes the discovery output and each optional extract the caller asked for. */
export async function writeDiscoveryOutputs(
  output: DiscoveryOutput,
  files: DiscoveryOutputFiles,
): Promise<void> {
  await writeJsonFile(files.output, output);
  if (files.phaseGroups !== undefined) await writeJsonFile(files.phaseGroups, output.phaseGroups);
  if (files.releaseProjects !== undefined) {
    await writeJsonFile(files.releaseProjects, output.releaseProjects);
  }
  if (files.taskGroups !== undefined) await writeJsonFile(files.taskGroups, taskGroups(output));
  if (files.groupItems !== undefined) await writeJsonFile(files.groupItems, groupItems(output));
  if (files.groupTasks !== undefined) await writeJsonFile(files.groupTasks, groupTasks(output));
  if (files.releaseEnabled !== undefined) {
    await writeJsonFile(files.releaseEnabled, output.releaseEnabled);
  }
}

/**
 * Writes `value` as JSON at `path`, creating its folder, through a temporary file renamed into
 * place: Argo reads the file after the container exits, and never sees half of it.
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, JSON.stringify(value));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new DispatchResultError(`could not write ${path}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

function oneLine(text: string): string {
  const line = text
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' / ');
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 3)}...` : line;
}
