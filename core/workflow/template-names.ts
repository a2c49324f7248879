/** The templates of a run's workflow, by role. */
export const TemplateName = {
  /** The entrypoint: discovery, then the phase groups, then the releases. */
  pipeline: 'pipeline',
  discovery: 'discovery',
  /** The loop over the phase groups, one at a time. */
  phaseGroups: 'phase-groups',
  /** One phase group: its tasks side by side. */
  phaseGroup: 'phase-group',
  task: 'task',
  release: 'release',
  /** What runs when the workflow ends unsuccessfully (stopped, failed, past its deadline). */
  exitHandler: 'exit-handler',
  cancelRun: 'cancel-run',
} as const;

/** The workflow's arguments: the run's facts, referenced as `{{workflow.parameters.<name>}}`. */
export const RunParameter = {
  runId: 'run-id',
  repository: 'repository',
  cloneUrl: 'clone-url',
  commit: 'commit',
  branch: 'branch',
  tag: 'tag',
} as const;

/** The discovery dispatcher's output parameters, read from the files it writes. */
export const DiscoveryParameter = {
  /** `[{index, group, phases}]`: one small loop item per phase group. */
  groupItems: 'group-items',
  /** `[[{phase, project}], ...]`: each group's tasks, by the group's index. */
  groupTasks: 'group-tasks',
  /** `true` or `false`. */
  releaseEnabled: 'release-enabled',
  /** The names of the projects to release, a JSON array. */
  releaseProjects: 'release-projects',
} as const;

/** A reference to a workflow argument, for Argo to substitute. */
export function runParameterRef(name: (typeof RunParameter)[keyof typeof RunParameter]): string {
  return `{{workflow.parameters.${name}}}`;
}
