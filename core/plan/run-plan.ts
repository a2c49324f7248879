import type { DiscoveryOutput, Step } from '../contracts/discovery-output.js';
import { releaseJobId, taskJobId } from '../contracts/jobs.js';

/** One task of a run: one project's steps for one phase, executed by one task job. */
export interface PlannedTask {
  /** The task job's deterministic id, `<run>/task/<phase>/<project>`. */
  readonly jobId: string;
  readonly group: number;
  readonly phase: string;
  readonly project: string;
  /** The project's folder in the repository, `.` for the root. */
  readonly projectPath: string;
  /** In discovery order: descending priority, then name. */
  readonly steps: readonly Step[];
}

/** One phase of a group, with the tasks of every project that takes part in it. */
export interface PlannedPhase {
  readonly name: string;
  readonly group: number;
  /** In discovery order (projects by path). */
  readonly tasks: readonly PlannedTask[];
}

/**
 * A phase group: its phases run in parallel, and the group starts only after every task of
 * the group before it succeeded.
 */
export interface PlannedGroup {
  readonly group: number;
  readonly phases: readonly PlannedPhase[];
  /** Every task of the group's phases, phase by phase. */
  readonly tasks: readonly PlannedTask[];
}

/** The release stage, after the last group, when discovery triggered one. */
export interface PlannedRelease {
  readonly enabled: boolean;
  /** The projects whose release triggered; empty when `enabled` is false. */
  readonly projects: readonly string[];
  /** One release job per project, `<run>/release/<project>`. */
  readonly jobIds: readonly string[];
}

/**
 * What a run executes, derived from its discovery output alone: the phase groups in order, the
 * phases of each and the tasks of each phase, then the release stage. Both workflow engines
 * (the in-process one and the Argo manifest's loops, through the discovery dispatcher's task
 * groups) follow this one plan, so they submit the same jobs under the same ids.
 */
export interface RunPlan {
  readonly runId: string;
  readonly groups: readonly PlannedGroup[];
  readonly release: PlannedRelease;
  /** Tasks over all groups. */
  readonly taskCount: number;
}

/**
 * Builds the plan of run `runId` from its discovery output. Groups come in the output's order
 * (ascending group number) and keep every phase the repository defines, so a group without
 * tasks still appears and simply succeeds; a phase lists only the projects with steps in it.
 */
export function buildRunPlan(runId: string, output: DiscoveryOutput): RunPlan {
  const groups = [...output.phaseGroups]
    .sort((left, right) => left.group - right.group)
    .map(({ group, phases: phaseNames }) => {
      const phases = phaseNames.map((name) => ({
        name,
        group,
        tasks: tasksOfPhase(runId, output, group, name),
      }));
      return { group, phases, tasks: phases.flatMap((phase) => phase.tasks) };
    });
  const projects = output.releaseEnabled ? [...output.releaseProjects] : [];
  return {
    runId,
    groups,
    release: {
      enabled: projects.length > 0,
      projects,
      jobIds: projects.map((project) => releaseJobId(runId, project)),
    },
    taskCount: groups.reduce((count, group) => count + group.tasks.length, 0),
  };
}

function tasksOfPhase(
  runId: string,
  output: DiscoveryOutput,
  group: number,
  phase: string,
): PlannedTask[] {
  return output.projects.flatMap((project) => {
    const steps = project.phases[phase] ?? [];
    if (steps.length === 0) return [];
    return [
      {
        jobId: taskJobId(runId, phase, project.name),
        group,
        phase,
        project: project.name,
        projectPath: project.path,
        steps,
      },
    ];
  });
}
