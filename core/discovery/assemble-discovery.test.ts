import { describe, expect, it } from 'vitest';
import { RepositoryConfigSchema } from '../contracts/repository-config.js';
import type { DiscoveryOutput, Step } from '../contracts/discovery-output.js';
import {
  assembleDiscoveryOutput,
  compareSteps,
  comparePaths,
  phaseGroupsOf,
  type AssembleDiscoveryInput,
  type EvaluatedProject,
} from './assemble-discovery.js';

/** A repository configuration as discovery parses it, `test` (10m) and `build` by default. */
function repositoryConfig(phases: Record<string, unknown> = {}) {
  return RepositoryConfigSchema.parse({
    forgeVersion: '1.0.0',
    phases: {
      test: { group: 1, description: 'tests', timeout: '10m' },
      build: { group: 2, description: 'builds' },
      ...phases,
    },
  });
}

/** An evaluated project at `path` whose value is `value` (one shell step in `test` by default). */
function project(path: string, value: Record<string, unknown> = {}, source = ''): EvaluatedProject {
  return {
    path,
    file: path === '.' ? '.forge/project.cue' : `${path}/.forge/project.cue`,
    source,
    value: {
      name: path === '.' ? 'root' : path.replaceAll('/', '-'),
      ci: { phases: { test: { unit: { action: 'shell', run: 'true' } } } },
      ...value,
    },
  };
}

function assemble(input: Partial<AssembleDiscoveryInput>): DiscoveryOutput {
  return assembleDiscoveryOutput({
    repository: repositoryConfig(),
    projects: [],
    problems: [],
    trigger: {},
    ...input,
  });
}

describe('assembleDiscoveryOutput', () => {
  it('names the line of a schema problem from the source', () => {
    const source = [
      'package project',
      '',
      'name: "web"',
      'ci: phases: test: {',
      '\tunit: {',
      '\t\taction: "shell"',
      '\t\trun:    "true"',
      '\t\tpriorty: 2',
      '\t}',
      '}',
      '',
    ].join('\n');
    const web = project(
      'web',
      { ci: { phases: { test: { unit: { action: 'shell', run: 'true', priorty: 2 } } } } },
      source,
    );

    const output = assemble({ projects: [web] });

    expect(output.projects).toEqual([]);
    expect(output.errors).toEqual([
      {
        path: 'web/.forge/project.cue',
        line: 8,
        message: 'ci.phases.test.unit: Unrecognized key: "priorty"',
      },
    ]);
  });

  it('names the line of a value the schema rejects', () => {
    const source = 'package project\n\nname: "Web_Service"\n';

    const output = assemble({ projects: [project('web', { name: 'Web_Service' }, source)] });

    expect(output.errors).toEqual([
      {
        path: 'web/.forge/project.cue',
        line: 3,
        message: 'name: must be kebab-case (lower-case words joined by "-")',
      },
    ]);
  });

  it('rejects a phase the repository does not define, even one named like an object property', () => {
    const steps = { unit: { action: 'shell', run: 'true' } };
    const source = 'package project\nname: "web"\nci: phases: constructor: unit: {}\n';

    const output = assemble({
      projects: [project('web', { ci: { phases: { constructor: steps } } }, source)],
    });

    expect(output.projects).toEqual([]);
    expect(output.errors).toEqual([
      {
        path: 'web/.forge/project.cue',
        line: 3,
        message: 'phase "constructor" is not defined in .forge/repo.cue (defined: build, test)',
      },
    ]);
  });

  it('rejects a project that lacks a required phase', () => {
    const repository = repositoryConfig({
      lint: { group: 1, description: 'lint', required: true },
      scan: { group: 3, description: 'scan', required: true },
    });

    const output = assemble({ repository, projects: [project('web')] });

    expect(output.errors).toEqual([
      {
        path: 'web/.forge/project.cue',
        line: undefined,
        message: 'required phases "lint", "scan" missing from the project',
      },
    ]);
  });

  it('keeps the first of two projects with the same name, by path', () => {
    const output = assemble({
      projects: [
        project('b', { name: 'web' }, 'package project\nname: "web"\n'),
        project('a', { name: 'web' }),
      ],
    });

    expect(output.projects.map(({ path }) => path)).toEqual(['a']);
    expect(output.errors).toEqual([
      { path: 'b/.forge/project.cue', line: 2, message: 'project name "web" is already used by a' },
    ]);
  });

  it('sorts projects by path segments, the root first', () => {
    const paths = ['a-b', 'a/b', 'b', '-legacy', 'a', '.', 'a/b/c', 'B'];

    const output = assemble({
      projects: paths.map((path, index) => project(path, { name: `project-${index}` })),
    });

    expect(output.projects.map(({ path }) => path)).toEqual([
      '.',
      '-legacy',
      'B',
      'a',
      'a/b',
      'a/b/c',
      'a-b',
      'b',
    ]);
  });

  it('sorts errors by path, then line, whichever step found them', () => {
    const output = assemble({
      problems: [
        { path: 'z/.forge/project.cue', message: 'unreadable' },
        { path: 'a-b/.forge/project.cue', line: 9, message: 'late' },
        { path: 'a-b/.forge/project.cue', line: 2, message: 'early' },
      ],
      projects: [project('a/b', { name: 'Bad' })],
    });

    expect(output.errors.map(({ path, message }) => `${path} ${message}`)).toEqual([
      'a/b/.forge/project.cue name: must be kebab-case (lower-case words joined by "-")',
      'a-b/.forge/project.cue early',
      'a-b/.forge/project.cue late',
      'z/.forge/project.cue unreadable',
    ]);
  });

  it("gives each step its own timeout, else its phase's, else null", () => {
    const web = project('web', {
      ci: {
        phases: {
          test: {
            own: { action: 'shell', run: 'true', timeout: '90s' },
            inherited: { action: 'shell', run: 'true' },
          },
          build: { image: { action: 'earthly', target: '+image' } },
        },
      },
    });

    const output = assemble({ projects: [web] });

    const phases = output.projects[0]?.phases ?? {};
    expect(phases.test?.map(({ name, timeout }) => [name, timeout])).toEqual([
      ['inherited', 600],
      ['own', 90],
    ]);
    expect(phases.build).toEqual([
      {
        name: 'image',
        action: 'earthly',
        target: '+image',
        priority: 0,
        args: [],
        secrets: [],
        timeout: null,
      },
    ]);
  });

  it('orders steps by descending priority, then name', () => {
    const steps = {
      zeta: { action: 'shell', run: 'z', priority: 1 },
      beta: { action: 'shell', run: 'b' },
      alpha: { action: 'shell', run: 'a', priority: 1 },
      gamma: { action: 'shell', run: 'g', priority: -1 },
    };

    const output = assemble({ projects: [project('web', { ci: { phases: { test: steps } } })] });

    expect(output.projects[0]?.phases.test?.map(({ name }) => name)).toEqual([
      'alpha',
      'zeta',
      'beta',
      'gamma',
    ]);
  });

  it('lists the projects whose release triggers match', () => {
    const releaseOnMain = { release: { on: [{ branch: 'main' }] }, deployment: {} };

    const output = assemble({
      trigger: { branch: 'main' },
      projects: [project('api', releaseOnMain), project('web')],
    });

    expect(output.releaseEnabled).toBe(true);
    expect(output.releaseProjects).toEqual(['api']);
    expect(output.projects.map((p) => [p.name, p.releaseTriggered, p.deploymentTriggered])).toEqual(
      [
        ['api', true, true],
        ['web', false, false],
      ],
    );
  });

  it("carries the repository's phases, sorted, with defaults resolved", () => {
    const output = assemble({});

    expect(output.repository).toEqual({
      forgeVersion: '1.0.0',
      tagging: { strategy: 'monorepo' },
      phases: {
        build: { group: 2, description: 'builds', timeout: null, required: false },
        test: { group: 1, description: 'tests', timeout: 600, required: false },
      },
      publishers: {},
    });
    expect(Object.keys(output.repository.phases)).toEqual(['build', 'test']);
    expect(output.releaseEnabled).toBe(false);
  });
});

describe('comparePaths', () => {
  it.each([
    ['a/b', 'a-b'],
    ['.', 'a'],
    ['.', '-a'],
    ['.', '.github'],
    ['a', 'a/b'],
    ['B', 'a'],
    ['a/b', 'a/c'],
  ])('puts %j before %j', (first, second) => {
    expect(comparePaths(first, second)).toBeLessThan(0);
    expect(comparePaths(second, first)).toBeGreaterThan(0);
  });

  it('finds a path equal to itself', () => {
    expect(comparePaths('a/b', 'a/b')).toBe(0);
    expect(comparePaths('.', '.')).toBe(0);
  });
});

describe('compareSteps', () => {
  it('puts the higher priority first, then the name', () => {
    const step = (name: string, priority: number): Step => ({
      name,
      priority,
      action: 'shell',
      run: 'x',
      args: [],
      secrets: [],
      timeout: null,
    });

    expect(compareSteps(step('z', 2), step('a', 1))).toBeLessThan(0);
    expect(compareSteps(step('a', 1), step('b', 1))).toBeLessThan(0);
  });
});

describe('phaseGroupsOf', () => {
  it('groups every phase, groups ascending, phases by name', () => {
    const repository = repositoryConfig({
      lint: { group: 1, description: 'lint' },
      deploy: { group: 10, description: 'deploy' },
      publish: { group: 3, description: 'publish' },
      audit: { group: 3, description: 'audit' },
    });

    const groups = phaseGroupsOf(repository);

    expect(groups).toEqual([
      { group: 1, phases: ['lint', 'test'] },
      { group: 2, phases: ['build'] },
      { group: 3, phases: ['audit', 'publish'] },
      { group: 10, phases: ['deploy'] },
    ]);
  });

  it('returns no groups for a repository without phases', () => {
    const repository = RepositoryConfigSchema.parse({ forgeVersion: '1.0.0', phases: {} });

    expect(phaseGroupsOf(repository)).toEqual([]);
  });
});
