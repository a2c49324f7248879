import type { GitHubContext } from '../contracts/api.js';
import type { ExecutionStatus, RunStatus } from '../statuses.js';

/*
 * The state of one run as the progress rules read it: the run, and below it the phases,
 * tasks and steps discovery produced, plus the release jobs. Times are ISO-8601 texts (UTC),
 * so the rules stay pure and comparable. Rows loaded from storage carry their `id`; rows the
 * rules create in memory have none until they are written.
 */

/** A pipeline run's own fields that its progress depends on or changes. */
export interface RunState {
  readonly id: string;
  /** `owner/name`. */
  readonly repository: string;
  readonly commitSha: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly completedAt: string | null;
  /** When discovery completed; `null` before (or while only a task's record brought the plan). */
  readonly discoveredAt: string | null;
  /** Whether the run's plan (phases, tasks, steps, releases) was made from its discovery. */
  readonly materialised: boolean;
  readonly githubContext: GitHubContext;
  /** Why the run failed or was cancelled, in one line. */
  readonly error: string | null;
}

/** One phase of the run, within its phase group. */
export interface PhaseState {
  readonly id?: string | undefined;
  readonly name: string;
  readonly group: number;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

/** One project's steps for one phase, executed by the task job `jobId`. */
export interface TaskState {
  readonly id?: string | undefined;
  /** `<run>/task/<phase>/<project>`: the natural key of a task. */
  readonly jobId: string;
  readonly phase: string;
  readonly group: number;
  readonly project: string;
  readonly projectPath: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
}

/** What a step runs: an Earthly target, or a shell command. */
export type StepAction = 'earthly' | 'shell';

/** One step of a task, in the order discovery gave (descending priority, then name). */
export interface StepState {
  readonly id?: string | undefined;
  /** The task's job id; with `name`, the natural key of a step. */
  readonly jobId: string;
  readonly name: string;
  readonly position: number;
  readonly action: StepAction;
  /** The Earthly target, for `earthly` steps. */
  readonly target: string | null;
  /** The shell command, for `shell` steps. */
  readonly run: string | null;
  readonly status: ExecutionStatus;
  readonly exitCode: number | null;
  readonly logsKey: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
}

/** One project's release job, `<run>/release/<project>`, run after the last phase group. */
export interface ReleaseState {
  readonly id?: string | undefined;
  readonly jobId: string;
  readonly project: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
}

/** Everything the progress rules need about one run. */
export interface RunSnapshot {
  readonly run: RunState;
  readonly phases: readonly PhaseState[];
  readonly tasks: readonly TaskState[];
  readonly steps: readonly StepState[];
  readonly releases: readonly ReleaseState[];
}

/** The natural key of a step: its task's job id and its name. */
export function stepKey(jobId: string, stepName: string): string {
  return `${jobId}#${stepName}`;
}
