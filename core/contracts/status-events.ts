import { z } from 'zod';
import { ExecutionStatus, RunStatus } from '../statuses.js';
import { CommitShaSchema, GitHubContextSchema, RepositoryFullNameSchema } from './api.js';

/** The moments of a run that GitHub hears about (DESIGN.md section 7). */
export const StatusPoint = {
  /** The run was created; discovery starts. */
  created: 'created',
  /** Discovery finished; the first phase group starts (or the run ended, for an empty plan). */
  discovered: 'discovered',
  /** Every task of one phase group ended successfully; the next group starts. */
  groupCompleted: 'group_completed',
  /** The run reached a terminal status. */
  completed: 'completed',
} as const;
/** One of {@link StatusPoint}. */
export type StatusPoint = (typeof StatusPoint)[keyof typeof StatusPoint];

/** One task of the run, as the pull-request summary lists it. */
export const StatusEventTaskSchema = z.object({
  phase: z.string(),
  group: z.int().positive(),
  project: z.string(),
  status: z.enum(ExecutionStatus),
  duration_ms: z.int().min(0).nullable(),
});
/** A task line of a {@link RunStatusEvent}. */
export type StatusEventTask = z.infer<typeof StatusEventTaskSchema>;

/** What made the run fail, when it failed: the first failed step, or discovery. */
export const StatusEventFailureSchema = z.object({
  phase: z.string().nullable(),
  project: z.string().nullable(),
  step: z.string().nullable(),
  message: z.string(),
});
/** The failure of a {@link RunStatusEvent}. */
export type StatusEventFailure = z.infer<typeof StatusEventFailureSchema>;

/**
 * A fact about a run's progress, emitted by the reconciler (and the control plane on creation)
 * for the GitHub fan-out. It carries facts, not texts: the fan-out renders the commit status
 * description and the pull-request comment from them. Events of one commit are coalesced to
 * the latest, ordered by `sequence` (monotonic per run).
 */
export const RunStatusEventSchema = z.object({
  run_id: z.uuid(),
  repository: RepositoryFullNameSchema,
  commit_sha: CommitShaSchema,
  point: z.enum(StatusPoint),
  run_status: z.enum(RunStatus),
  /** Monotonic per run: of two events for one run, the higher sequence is the newer. */
  sequence: z.int().min(0),
  /** Phase groups in the plan; 0 before discovery. */
  groups_total: z.int().min(0),
  /** Phase groups whose tasks all succeeded. */
  groups_completed: z.int().min(0),
  started_at: z.iso.datetime(),
  completed_at: z.iso.datetime().nullable(),
  /** Where the commit status links: the Argo UI workflow page, or the run in the embedded API. */
  target_url: z.url().nullable(),
  github_context: GitHubContextSchema,
  failure: StatusEventFailureSchema.nullable(),
  /** Every task of the run so far, for the pull-request summary (empty before discovery). */
  tasks: z.array(StatusEventTaskSchema),
});
/** A validated {@link RunStatusEventSchema}. */
export type RunStatusEvent = z.infer<typeof RunStatusEventSchema>;
