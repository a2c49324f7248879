import { describe, expect, it } from 'vitest';
import type { DiscoveredProject, DiscoveryOutput, Step } from '../contracts/discovery-output.js';
import { buildRunPlan } from './run-plan.js';

const RUN = '3f1b7c2e-0d7a-4b4e-9d7e-2a8f5b6c1d00';

function shell(name: string): Step {
  return { name, action: 'shell', run: 'true', priority: 0, args: [], secrets: [], timeout: null };
}

function project(name: string, phases: Record<string, string[]>): DiscoveredProject {
  return {
    name,
    path: name,
    phases: Object.fromEntries(
      Object.entries(phases).map(([phase, steps]) => [phase, steps.map(shell)]),
    ),
    releaseTriggered: false,
    deploymentTriggered: false,
  };
}

function output(overrides: Partial<DiscoveryOutput>): DiscoveryOutput {
  return {
    repository: {
      forgeVersion: '1.0.0',
      tagging: { strategy: 'monorepo' },
      phases: {},
      publishers: {},
    },
    projects: [],
    phaseGroups: [],
    releaseEnabled: false,
    releaseProjects: [],
    errors: [],
    ...overrides,
  };
}

describe('buildRunPlan', () => {
  it('orders groups by number and lists the tasks of each phase in project order', () => {
    // Arrange
    const discovery = output({
      phaseGroups: [
        { group: 2, phases: ['build'] },
        { group: 1, phases: ['lint', 'test'] },
      ],
      projects: [
        project('api', { test: ['unit'], build: ['image'] }),
        project('web', { lint: ['eslint'], test: ['unit', 'e2e'] }),
      ],
    });

    // Act
    const plan = buildRunPlan(RUN, discovery);

    // Assert
    expect(plan.groups.map((group) => group.group)).toEqual([1, 2]);
    expect(plan.groups[0]?.phases.map((phase) => phase.name)).toEqual(['lint', 'test']);
    expect(plan.groups[0]?.tasks.map((task) => task.jobId)).toEqual([
      `${RUN}/task/lint/web`,
      `${RUN}/task/test/api`,
      `${RUN}/task/test/web`,
    ]);
    expect(plan.groups[0]?.tasks[2]?.steps.map((step) => step.name)).toEqual(['unit', 'e2e']);
    expect(plan.groups[1]?.tasks.map((task) => [task.group, task.project])).toEqual([[2, 'api']]);
    expect(plan.taskCount).toBe(4);
  });

  it('keeps a group without tasks, so the groups line up with discovery', () => {
    // Arrange
    const discovery = output({
      phaseGroups: [
        { group: 1, phases: ['test'] },
        { group: 2, phases: ['deploy'] },
      ],
      projects: [project('api', { test: ['unit'] })],
    });

    // Act
    const plan = buildRunPlan(RUN, discovery);

    // Assert
    expect(plan.groups).toHaveLength(2);
    expect(plan.groups[1]).toMatchObject({ group: 2, tasks: [] });
    expect(plan.groups[1]?.phases).toEqual([{ name: 'deploy', group: 2, tasks: [] }]);
  });

  it('plans the release stage only when discovery enabled it for some project', () => {
    // Arrange
    const enabled = output({ releaseEnabled: true, releaseProjects: ['api', 'web'] });
    const disabled = output({ releaseEnabled: false, releaseProjects: [] });
    const enabledWithoutProjects = output({ releaseEnabled: true, releaseProjects: [] });

    // Act
    const plans = [enabled, disabled, enabledWithoutProjects].map((discovery) =>
      buildRunPlan(RUN, discovery),
    );

    // Assert
    expect(plans[0]?.release).toEqual({
      enabled: true,
      projects: ['api', 'web'],
      jobIds: [`${RUN}/release/api`, `${RUN}/release/web`],
    });
    expect(plans[1]?.release.enabled).toBe(false);
    expect(plans[2]?.release).toEqual({ enabled: false, projects: [], jobIds: [] });
  });
});
