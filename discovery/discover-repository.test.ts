import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmCueEvaluator } from '../adapters/cue/wasm-cue-evaluator.js';
import {
  DiscoveryLimitError,
  RepositoryConfigInvalidError,
  RepositoryConfigNotFoundError,
  RepositoryUnreadableError,
} from '../core/discovery/discovery-errors.js';
import type { DiscoveryOutput, DiscoveryProblem } from '../core/contracts/discovery-output.js';
import type { TriggerContext } from '../core/discovery/release-triggers.js';
import { useCommittedRepositories, type TestRepository } from '../test/support/git-repository.js';
import { projectCue, repoCue } from '../test/support/forge-repository.js';
import { discoverRepository } from './discover-repository.js';

// One real CUE evaluator for the file: its host process stays warm between tests.
const evaluator = new WasmCueEvaluator();

afterAll(() => evaluator.close());

const repositoryWith = useCommittedRepositories();

function discover(
  repository: TestRepository,
  trigger: TriggerContext = {},
): Promise<DiscoveryOutput> {
  return discoverRepository(repository.path, { evaluator, trigger });
}

function projectPaths(output: DiscoveryOutput): string[] {
  return output.projects.map((project) => project.path);
}

describe('discoverRepository', () => {
  beforeAll(async () => {
    // Start the CUE host before the first timed test.
    await evaluator.evaluate([{ path: 'warm/x.cue', source: 'package warm\nx: 1\n' }], 'warm');
  });

  it('finds every project, sorted by path, with phase groups of every defined phase', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue({
        phases: {
          test: { group: 1 },
          lint: { group: 1 },
          build: { group: 2 },
          deploy: { group: 3 },
        },
      }),
      'services/web/.forge/project.cue': projectCue('web'),
      'libs/core/.forge/project.cue': projectCue('core'),
      'services/api/.forge/project.cue': projectCue('api'),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['libs/core', 'services/api', 'services/web']);
    expect(output.phaseGroups).toEqual([
      { group: 1, phases: ['lint', 'test'] },
      { group: 2, phases: ['build'] },
      { group: 3, phases: ['deploy'] },
    ]);
    expect(output.errors).toEqual([]);
  });

  it('orders steps by descending priority, then name, with the phase timeout as fallback', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue({ phases: { test: { group: 1, timeout: '10m' } } }),
      'app/.forge/project.cue': projectCue(
        'app',
        `ci: phases: test: {
	zeta: {action: "shell", run: "true", priority: 5}
	alpha: {action: "shell", run: "true"}
	beta: {action: "earthly", target: "+beta", priority: 5, timeout: "90s", args: ["--ci"]}
}`,
      ),
    });

    const output = await discover(repository);

    const steps = output.projects[0]?.phases.test ?? [];
    expect(steps.map((step) => [step.name, step.priority, step.timeout])).toEqual([
      ['beta', 5, 90],
      ['zeta', 5, 600],
      ['alpha', 0, 600],
    ]);
    expect(steps[0]).toMatchObject({ action: 'earthly', target: '+beta', args: ['--ci'] });
  });

  it('gives the same output twice', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'b/.forge/project.cue': projectCue('b'),
      'a/.forge/project.cue': projectCue('a', 'ci: phases: build: x: {action: "shell", run: "x"}'),
    });

    const first = JSON.stringify(await discover(repository));
    const second = JSON.stringify(await discover(repository));

    expect(second).toBe(first);
  });

  it('honours .gitignore files at every level, including negations', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      '.gitignore': 'vendor/\nscratch-*\n',
      'vendor/lib/.forge/project.cue': projectCue('vendored'),
      'scratch-one/.forge/project.cue': projectCue('scratch'),
      'apps/.gitignore': 'generated/\n!keep/\n',
      'apps/generated/.forge/project.cue': projectCue('generated'),
      'apps/keep/.forge/project.cue': projectCue('keep'),
      'apps/main/.forge/project.cue': projectCue('main'),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['apps/keep', 'apps/main']);
  });

  it('never follows symbolic links to folders, .forge folders or configuration files', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'real/.forge/project.cue': projectCue('real'),
      'elsewhere/config.cue': projectCue('linked-file'),
    });
    await symlink(join(repository.path, 'real'), join(repository.path, 'alias'));
    await mkdir(join(repository.path, 'linked-forge'));
    await symlink(
      join(repository.path, 'real/.forge'),
      join(repository.path, 'linked-forge/.forge'),
    );
    await mkdir(join(repository.path, 'linked-file/.forge'), { recursive: true });
    await symlink(
      join(repository.path, 'elsewhere/config.cue'),
      join(repository.path, 'linked-file/.forge/project.cue'),
    );

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['real']);
    expect(output.errors.map((error) => error.path)).toEqual([
      'linked-file/.forge/project.cue',
      'linked-forge/.forge/project.cue',
    ]);
    expect(output.errors[0]?.message).toContain('symbolic link');
  });

  it('skips a project nested inside another one and keeps the outer project', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      '.forge/project.cue': projectCue('root-project'),
      'outer/.forge/project.cue': projectCue('outer'),
      'outer/inner/.forge/project.cue': projectCue('inner'),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['.', 'outer']);
    expect(output.errors).toEqual([
      {
        path: 'outer/inner/.forge/project.cue',
        message: expect.stringContaining('nested inside the project at outer') as string,
      },
    ]);
  });

  it('skips projects that fail to load, naming file and line, and keeps the others', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'good/.forge/project.cue': projectCue('good'),
      'syntax/.forge/project.cue': 'package project\n\nname: "syntax"\nci: phases: test: {\n',
      'conflict/.forge/project.cue': 'package project\n\nname: "conflict"\nname: "other"\n',
      'schema/.forge/project.cue': projectCue(
        'schema',
        'ci: phases: test: unit: {\n\taction: "shell"\n\trun: "true"\n\tpriorty: 3\n}',
      ),
      'incomplete/.forge/project.cue': 'package project\n\nname: string\n',
      'package/.forge/project.cue': 'package other\n\nname: "package"\n',
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['good']);
    const errors: Record<string, DiscoveryProblem | undefined> = Object.fromEntries(
      output.errors.map((error) => [error.path.split('/')[0], error]),
    );
    expect(errors.syntax).toMatchObject({ path: 'syntax/.forge/project.cue', line: 4 });
    expect(errors.conflict).toMatchObject({
      line: 3,
      message: expect.stringContaining('conflicting values'),
    });
    expect(errors.schema).toMatchObject({ line: 8, message: expect.stringContaining('priorty') });
    expect(errors.incomplete).toMatchObject({
      line: 3,
      message: expect.stringContaining('incomplete'),
    });
    expect(errors.package).toMatchObject({
      line: 1,
      message: 'declares package other, but must be "package project"',
    });
    expect(output.errors).toHaveLength(5);
  });

  it('refuses a phase the repository does not define, for that project only', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'ok/.forge/project.cue': projectCue('ok'),
      'bad/.forge/project.cue': projectCue(
        'bad',
        'ci: phases: {\n\ttest: unit: {action: "shell", run: "true"}\n\tdeploy: push: {action: "shell", run: "true"}\n}',
      ),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['ok']);
    expect(output.errors).toEqual([
      {
        path: 'bad/.forge/project.cue',
        line: 7,
        message: expect.stringContaining('phase "deploy" is not defined') as string,
      },
    ]);
  });

  it('refuses a project that lacks a required phase', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue({
        phases: { test: { group: 1, required: true }, build: { group: 2 } },
      }),
      'ok/.forge/project.cue': projectCue('ok'),
      'lazy/.forge/project.cue': projectCue(
        'lazy',
        'ci: phases: build: x: {action: "shell", run: "true"}',
      ),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['ok']);
    expect(output.errors[0]).toMatchObject({
      path: 'lazy/.forge/project.cue',
      message: 'required phase "test" missing from the project',
    });
  });

  it('keeps the first of two projects with the same name', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'a/.forge/project.cue': projectCue('same'),
      'b/.forge/project.cue': projectCue('same'),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['a']);
    expect(output.errors[0]).toMatchObject({ path: 'b/.forge/project.cue', line: 3 });
  });

  it('replaces @repo references and carries @artifact references', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue({ phases: { test: { group: 1, timeout: '7m' } } }),
      'app/.forge/project.cue': projectCue(
        'app',
        `// @repo(path="nope") in a comment is left alone
ci: phases: test: unit: {
	action: "shell"
	run: "echo '@repo(path=\\"nope\\")'"
	timeout: @repo(path="phases.test.timeout")
}
deployment: image: @artifact("app.publishers.ecr.uri")`,
      ),
      'broken/.forge/project.cue': projectCue(
        'broken',
        'ci: phases: test: unit: {action: "shell", run: "true"}\nx: @repo(path="phases.missing")',
      ),
    });

    const output = await discover(repository);

    expect(projectPaths(output)).toEqual(['app']);
    expect(output.projects[0]?.phases.test?.[0]).toMatchObject({
      run: `echo '@repo(path="nope")'`,
      timeout: 420,
    });
    expect(output.errors).toEqual([
      {
        path: 'broken/.forge/project.cue',
        line: 6,
        message: '@repo(path="phases.missing") names nothing in .forge/repo.cue',
      },
    ]);
  });

  describe('release triggers', () => {
    const releasing = (name: string, on: string) =>
      projectCue(
        name,
        `ci: phases: test: unit: {action: "shell", run: "true"}\nrelease: on: ${on}`,
      );

    it('matches branches as anchored regular expressions', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue(),
        'api/.forge/project.cue': releasing('api', '[{branch: "main"}]'),
        'web/.forge/project.cue': releasing('web', '[{branch: "release/.*"}]'),
        'off/.forge/project.cue': projectCue(
          'off',
          'ci: phases: test: unit: {action: "shell", run: "true"}\nrelease: {on: [{branch: ".*"}], enabled: false}',
        ),
      });

      const onMain = await discover(repository, { branch: 'main' });
      const onMaintenance = await discover(repository, { branch: 'maintenance' });
      const onRelease = await discover(repository, { branch: 'release/2.0' });

      expect(onMain.releaseProjects).toEqual(['api']);
      expect(onMain.releaseEnabled).toBe(true);
      expect(onMaintenance.releaseProjects).toEqual([]);
      expect(onMaintenance.releaseEnabled).toBe(false);
      expect(onRelease.releaseProjects).toEqual(['web']);
    });

    it('matches <project>/v* tags under the monorepo strategy', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue({ tagging: 'monorepo' }),
        'api/.forge/project.cue': releasing('api', '[{tag: true}]'),
        'web/.forge/project.cue': releasing('web', '[{tag: true}]'),
      });

      const output = await discover(repository, { tag: 'api/v1.2.0' });
      const plainTag = await discover(repository, { tag: 'v1.2.0' });

      expect(output.releaseProjects).toEqual(['api']);
      expect(plainTag.releaseProjects).toEqual([]);
    });

    it('matches v* tags for every tag-triggered project under tag-all', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue({ tagging: 'tag-all' }),
        'api/.forge/project.cue': releasing('api', '[{tag: true}]'),
        'web/.forge/project.cue': releasing('web', '[{tag: true}]'),
        'lib/.forge/project.cue': releasing('lib', '[{branch: "main"}]'),
      });

      const output = await discover(repository, { tag: 'v3.0.0' });

      expect(output.releaseProjects).toEqual(['api', 'web']);
      expect(output.projects.map((project) => project.releaseTriggered)).toEqual([
        true,
        false,
        true,
      ]);
    });

    it('triggers deployment only for released projects whose deployment is enabled', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue(),
        'api/.forge/project.cue': projectCue(
          'api',
          'ci: phases: test: unit: {action: "shell", run: "true"}\nrelease: on: [{branch: "main"}]\ndeployment: {enabled: true}',
        ),
        'web/.forge/project.cue': projectCue(
          'web',
          'ci: phases: test: unit: {action: "shell", run: "true"}\nrelease: on: [{branch: "nope"}]\ndeployment: {}',
        ),
      });

      const output = await discover(repository, { branch: 'main' });

      expect(output.projects.map((p) => [p.name, p.deploymentTriggered])).toEqual([
        ['api', true],
        ['web', false],
      ]);
    });
  });

  describe('limits', () => {
    const manyProjects = (count: number, body?: string) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, index) => [
          `p/${String(index).padStart(3, '0')}/.forge/project.cue`,
          projectCue(`p${index}`, body),
        ]),
      );

    it('accepts 100 projects', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue(),
        ...manyProjects(100),
      });

      const output = await discover(repository);

      expect(output.projects).toHaveLength(100);
    });

    it('fails discovery with more than 100 projects', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue(),
        ...manyProjects(101),
      });

      await expect(discover(repository)).rejects.toThrow(
        new DiscoveryLimitError('found 101 projects, over the limit of 100 per repository'),
      );
    });

    it('fails discovery when the output would exceed 1 MB', async () => {
      const longCommand = 'x'.repeat(12_000);
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue(),
        ...manyProjects(90, `ci: phases: test: unit: {action: "shell", run: "${longCommand}"}`),
      });

      await expect(discover(repository)).rejects.toThrow(/over the limit of 1048576 bytes/);
    });
  });

  describe('repository-level failures', () => {
    it('refuses a folder without .forge/repo.cue, naming that file', async () => {
      const repository = await repositoryWith({ 'app/.forge/project.cue': projectCue('app') });

      const failure = discover(repository);

      await expect(failure).rejects.toBeInstanceOf(RepositoryConfigNotFoundError);
      await expect(failure).rejects.toThrow(
        `${join(repository.path, '.forge/repo.cue')} not found`,
      );
    });

    it('refuses a malformed repo.cue with its line', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': 'package repo\n\nforgeVersion: "1.0.0"\nphases: {\n',
      });

      const failure = discover(repository);

      await expect(failure).rejects.toBeInstanceOf(RepositoryConfigInvalidError);
      await expect(failure).rejects.toThrow(/repo\.cue:4: expected '}', found 'EOF'/);
    });

    it('refuses an unsupported forgeVersion major', async () => {
      const repository = await repositoryWith({
        '.forge/repo.cue': repoCue({ forgeVersion: '2.0.0' }),
      });

      await expect(discover(repository)).rejects.toThrow(
        /repo\.cue:3: forgeVersion: major version is not supported/,
      );
    });

    it('refuses a path that does not exist', async () => {
      await expect(
        discoverRepository('/nonexistent/forge-repo', { evaluator }),
      ).rejects.toBeInstanceOf(RepositoryUnreadableError);
    });
  });
});
