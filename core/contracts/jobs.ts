import { z } from 'zod';
import { assertNever } from '../assert-never.js';
import { ForgeError } from '../errors.js';
import { ExecutionStatus, JobStatus, JobType } from '../statuses.js';
import { CommitShaSchema, GitRefNameSchema, RepositoryFullNameSchema } from './api.js';

/**
 * One segment of a job id: a run id, a phase name or a project name. Letters, digits, `.`, `_`
 * and `-`, never `/`, so that ids split back into their parts and are safe in storage keys.
 */
const ID_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** A run id, phase or project name as it appears inside a job id. */
export const JobIdSegmentSchema = z
  .string()
  .regex(
    ID_SEGMENT,
    'must be letters, digits, ".", "_" or "-" (at most 128), not starting with "." or "-"',
  );

/** The parts a deterministic job id is made of, by job type. */
export type JobIdParts =
  | { readonly type: typeof JobType.discovery; readonly runId: string }
  | {
      readonly type: typeof JobType.task;
      readonly runId: string;
      readonly phase: string;
      readonly project: string;
    }
  | { readonly type: typeof JobType.release; readonly runId: string; readonly project: string }
  | { readonly type: typeof JobType.artifact; readonly runId: string; readonly project: string };

/** Raised when a job id would be built from a part that cannot round-trip (empty, or with `/`). */
export class JobIdFormatError extends ForgeError {}

/**
 * The deterministic id of a job: `<run>/discovery`, `<run>/task/<phase>/<project>`,
 * `<run>/release/<project>` or `<run>/artifact/<project>`. Submission is a conditional write on
 * this id, so a retried dispatcher never creates a second job (DESIGN.md section 5).
 */
export function formatJobId(parts: JobIdParts): string {
  const segments = idSegments(parts);
  const bad = segments.find((segment) => !ID_SEGMENT.test(segment));
  if (bad !== undefined) {
    throw new JobIdFormatError(`cannot build a ${parts.type} job id from ${JSON.stringify(bad)}`);
  }
  return segments.join('/');
}

function idSegments(parts: JobIdParts): string[] {
  switch (parts.type) {
    case JobType.discovery:
      return [parts.runId, parts.type];
    case JobType.task:
      return [parts.runId, parts.type, parts.phase, parts.project];
    case JobType.release:
    case JobType.artifact:
      return [parts.runId, parts.type, parts.project];
    default:
      return assertNever(parts, 'job id parts');
  }
}

/** The id of a run's discovery job: `<run>/discovery`. */
export function discoveryJobId(runId: string): string {
  return formatJobId({ type: JobType.discovery, runId });
}

/** The id of the job running one project's steps for one phase: `<run>/task/<phase>/<project>`. */
export function taskJobId(runId: string, phase: string, project: string): string {
  return formatJobId({ type: JobType.task, runId, phase, project });
}

/** The id of a project's release job: `<run>/release/<project>`. */
export function releaseJobId(runId: string, project: string): string {
  return formatJobId({ type: JobType.release, runId, project });
}

/** The id of a project's artifact job: `<run>/artifact/<project>`. */
export function artifactJobId(runId: string, project: string): string {
  return formatJobId({ type: JobType.artifact, runId, project });
}

/** Splits a job id back into its parts; `undefined` when it is not an id {@link formatJobId} makes. */
export function parseJobId(jobId: string): JobIdParts | undefined {
  const segments = jobId.split('/');
  if (!segments.every((segment) => ID_SEGMENT.test(segment))) return undefined;
  const [runId, type, first, second] = segments;
  if (runId === undefined) return undefined;
  if (segments.length === 2 && type === JobType.discovery) return { type, runId };
  if (
    segments.length === 4 &&
    type === JobType.task &&
    first !== undefined &&
    second !== undefined
  ) {
    return { type, runId, phase: first, project: second };
  }
  if (
    segments.length === 3 &&
    (type === JobType.release || type === JobType.artifact) &&
    first !== undefined
  ) {
    return { type, runId, project: first };
  }
  return undefined;
}

/** A job id in one of the shapes {@link formatJobId} makes. */
export const JobIdSchema = z
  .string()
  .refine((jobId) => parseJobId(jobId) !== undefined, 'must be a job id such as "<run>/discovery"');

const isoTime = z.iso.datetime({ offset: true });

/** A project folder relative to the repository root: POSIX separators, `.` for the root, no `..`. */
export const ProjectPathSchema = z
  .string()
  .min(1)
  .refine(
    (path) =>
      path === '.' ||
      path
        .split('/')
        .every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\\')),
    'must be a relative POSIX path inside the repository ("." for the root)',
  );

/** The repository a job works on; `clone_url` is any git remote (https, ssh, or a local path). */
export const JobRepositorySchema = z.object({
  name: RepositoryFullNameSchema,
  clone_url: z.string().min(1),
});

const jobMessageCommon = {
  job_id: JobIdSchema,
  run_id: JobIdSegmentSchema,
  repository: JobRepositorySchema,
  commit_sha: CommitShaSchema,
  branch: GitRefNameSchema.optional(),
  tag: GitRefNameSchema.optional(),
  /** When the job must be finished; a worker stops and fails the job past it. */
  deadline: isoTime,
};

/** What a task job runs: one project's steps for one phase. */
export const TaskJobPayloadSchema = z.object({
  phase: JobIdSegmentSchema,
  project: z.object({ name: JobIdSegmentSchema, path: ProjectPathSchema }),
  /** Steps as discovery output them; the discovery output contract validates their shape. */
  steps: z.array(z.record(z.string(), z.unknown())),
});
/** The payload of a task job. */
export type TaskJobPayload = z.infer<typeof TaskJobPayloadSchema>;

/**
 * The message put on a job queue, one shape per {@link JobType}. The `job_id` must be the
 * deterministic id of the message's run, type and (for tasks and artifacts) phase and
 * project, so a consumer can trust either.
 */
export const JobMessageSchema = z
  .discriminatedUnion('type', [
    z.object({
      ...jobMessageCommon,
      type: z.literal(JobType.discovery),
      payload: z.object({}),
    }),
    z.object({ ...jobMessageCommon, type: z.literal(JobType.task), payload: TaskJobPayloadSchema }),
    z.object({
      ...jobMessageCommon,
      type: z.literal(JobType.release),
      payload: z.object({ projects: z.array(JobIdSegmentSchema).min(1) }),
    }),
    z.object({
      ...jobMessageCommon,
      type: z.literal(JobType.artifact),
      payload: z.object({ project: JobIdSegmentSchema }),
    }),
  ])
  .superRefine((message, context) => {
    const parts = parseJobId(message.job_id);
    if (parts !== undefined && !jobIdMatches(message, parts)) {
      context.addIssue({
        code: 'custom',
        path: ['job_id'],
        message: `does not match the message's ${message.type} job (run ${message.run_id})`,
      });
    }
  });
/** A validated job message. */
export type JobMessage = z.infer<typeof JobMessageSchema>;
/** A job message of one {@link JobType}. */
export type JobMessageOf<T extends JobType> = Extract<JobMessage, { type: T }>;

function jobIdMatches(message: JobMessage, parts: JobIdParts): boolean {
  if (parts.type !== message.type || parts.runId !== message.run_id) return false;
  switch (parts.type) {
    case JobType.discovery:
      return true;
    case JobType.task:
      return (
        message.type === JobType.task &&
        parts.phase === message.payload.phase &&
        parts.project === message.payload.project.name
      );
    case JobType.artifact:
      return message.type === JobType.artifact && parts.project === message.payload.project;
    // A release job may carry several projects, so only its run and type are checked.
    case JobType.release:
      return true;
    default:
      return assertNever(parts, 'job id parts');
  }
}

/** How long a job record lives in `pipeline-jobs` before DynamoDB expires it: 7 days. */
export const JOB_RECORD_TTL_SECONDS = 604_800;

/** The `ttl` attribute (epoch seconds) of a job record created at `createdAt`. */
export function jobRecordTtl(createdAt: Date): number {
  return Math.floor(createdAt.getTime() / 1000) + JOB_RECORD_TTL_SECONDS;
}

/** The progress of one step inside a job record, updated by the worker as the step runs. */
export const StepProgressSchema = z.object({
  status: z.enum(ExecutionStatus),
  exit_code: z.int().optional(),
  started_at: isoTime.optional(),
  completed_at: isoTime.optional(),
  duration_ms: z.int().min(0).optional(),
  log_key: z.string().min(1).optional(),
});
/** A validated step progress entry. */
export type StepProgress = z.infer<typeof StepProgressSchema>;

/**
 * A job as stored in the `pipeline-jobs` table (DESIGN.md section 5): its status, where its
 * result went, who runs it, whether cancellation was asked for, and per-step progress keyed
 * by step name. A record written before `cancel_requested` existed reads as `false`.
 * `heartbeat_at` is the running worker's last sign of life (set when it claims the job and at
 * each visibility heartbeat), so a second delivery of the job's message can tell a live owner
 * from a dead one; records written before it existed have none.
 */
export const JobRecordSchema = z.object({
  job_id: JobIdSchema,
  run_id: JobIdSegmentSchema,
  type: z.enum(JobType),
  status: z.enum(JobStatus),
  result_location: z.string().min(1).optional(),
  created_at: isoTime,
  updated_at: isoTime,
  ttl: z.int().positive(),
  worker_id: z.string().min(1).optional(),
  heartbeat_at: isoTime.optional(),
  started_at: isoTime.optional(),
  completed_at: isoTime.optional(),
  cancel_requested: z.boolean().default(false),
  error: z.string().optional(),
  steps: z.record(z.string().min(1), StepProgressSchema).optional(),
});
/** A validated job record. */
export type JobRecord = z.infer<typeof JobRecordSchema>;
