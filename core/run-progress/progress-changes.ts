import type { DiscoveryOutput } from '../contracts/discovery-output.js';
import type { PhaseState, ReleaseState, RunState, StepState, TaskState } from './run-snapshot.js';

/*
 * What a change of a run's progress produced, as the writer of a `RunProgressDraft` reads it:
 * the kinds of entity, the status changes to audit, the fields that may come with a change.
 */

/** The kinds of entity whose status changes are recorded (and audited). */
export const ProgressEntity = {
  run: 'run',
  phase: 'phase',
  task: 'task',
  step: 'step',
  release: 'release',
} as const;
/** One of {@link ProgressEntity}. */
export type ProgressEntity = (typeof ProgressEntity)[keyof typeof ProgressEntity];

/** One applied status change, for the audit log: who moved what from where to where. */
export interface StatusChange {
  readonly entity: ProgressEntity;
  /** The natural key: run id, phase name, job id, or `stepKey(jobId, name)`. */
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly actor: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Fields that may come with a status change; absent or `null` ones are left as they are. */
export interface ExecutionFields {
  readonly startedAt?: string | null | undefined;
  readonly completedAt?: string | null | undefined;
  readonly error?: string | null | undefined;
}

/** Step fields that may come with a step's status change. */
export interface StepFields extends ExecutionFields {
  readonly exitCode?: number | null | undefined;
  readonly logsKey?: string | null | undefined;
}

/** What a draft changed: the rows to insert, the rows to update, and the status changes. */
export interface RunProgressChanges {
  readonly run: RunState;
  readonly runChanged: boolean;
  /** The discovery output to keep with the run, when its plan was made by this change. */
  readonly discoveryOutput: DiscoveryOutput | undefined;
  readonly inserted: {
    readonly phases: readonly PhaseState[];
    readonly tasks: readonly TaskState[];
    readonly steps: readonly StepState[];
    readonly releases: readonly ReleaseState[];
  };
  readonly updated: {
    readonly phases: readonly PhaseState[];
    readonly tasks: readonly TaskState[];
    readonly steps: readonly StepState[];
    readonly releases: readonly ReleaseState[];
  };
  readonly statusChanges: readonly StatusChange[];
}
