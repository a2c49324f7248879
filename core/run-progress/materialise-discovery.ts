import type { DiscoveryOutput } from '../contracts/discovery-output.js';
import { releaseJobId, taskJobId } from '../contracts/jobs.js';
import { ExecutionStatus } from '../statuses.js';
import type { PhaseState, ReleaseState, StepState, TaskState } from './run-snapshot.js';

/** The executions a discovery output makes a run hold, all `pending`. */
export interface MaterialisedPlan {
  readonly phases: readonly PhaseState[];
  readonly tasks: readonly TaskState[];
  readonly steps: readonly StepState[];
  readonly releases: readonly ReleaseState[];
}

/**
 * Turns run `runId`'s discovery output into its phase, task, step and release executions, the
 * way the workflow engines plan the run: every phase of every group (a phase no project takes
 * part in is kept and succeeds with its group), one task per project with steps in a phase
 * (job id `<run>/task/<phase>/<project>`), its steps in discovery order, and one release per
 * triggered project when discovery enabled releases. Deterministic, so materialising twice
 * yields the same rows.
 */
export function materialiseDiscovery(runId: string, output: DiscoveryOutput): MaterialisedPlan {
  const phases: PhaseState[] = [];
  const tasks: TaskState[] = [];
  const steps: StepState[] = [];
  const groups = [...output.phaseGroups].sort((left, right) => left.group - right.group);
  for (const { group, phases: phaseNames } of groups) {
    for (const phase of phaseNames) {
      phases.push({ ...notStarted(), name: phase, group });
      for (const project of output.projects) {
        const projectSteps = project.phases[phase] ?? [];
        if (projectSteps.length === 0) continue;
        const jobId = taskJobId(runId, phase, project.name);
        tasks.push({
          ...notStarted(),
          jobId,
          phase,
          group,
          project: project.name,
          projectPath: project.path,
          error: null,
        });
        projectSteps.forEach((step, position) => {
          steps.push({
            ...notStarted(),
            jobId,
            name: step.name,
            position,
            action: step.action,
            target: step.action === 'earthly' ? step.target : null,
            run: step.action === 'shell' ? step.run : null,
            exitCode: null,
            logsKey: null,
            error: null,
          });
        });
      }
    }
  }
  const releases = output.releaseEnabled
    ? output.releaseProjects.map((project) => ({
        ...notStarted(),
        jobId: releaseJobId(runId, project),
        project,
        error: null,
      }))
    : [];
  return { phases, tasks, steps, releases };
}

function notStarted() {
  return { status: ExecutionStatus.pending, startedAt: null, completedAt: null } as const;
}
