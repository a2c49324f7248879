import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiscoveryOutputSchema } from '../../core/contracts/discovery-output.js';
import { useCommittedRepositories } from '../support/git-repository.js';
import { projectCue, repoCue } from '../support/forge-repository.js';
import { runCommand, type CommandResult } from '../support/run-command.js';

const NOBODY = 65534;

const repositoryWith = useCommittedRepositories();

/** A failure is one line naming the command, and never a stack trace. */
function expectOneLineFailure(result: CommandResult, exitCode: number, pattern: RegExp): void {
  expect(result.code).toBe(exitCode);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^forge-pipeline: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('forge-pipeline discover', () => {
  it('prints the discovery output of the sample monorepo and exits 0', async () => {
    const result = await runCommand('forge-pipeline', [
      'discover',
      'examples/monorepo',
      '--branch',
      'main',
    ]);

    expect(result.code).toBe(0);
    const output = DiscoveryOutputSchema.parse(JSON.parse(result.stdout));
    expect(output.projects.map((project) => project.name)).toEqual(['greeting', 'api', 'web']);
    expect(output.releaseProjects).toEqual(['api']);
    expect(output.errors).toEqual([]);
  });

  it('discovers an earlier commit with --commit, leaving the checkout alone', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'first/.forge/project.cue': projectCue('first'),
    });
    const firstCommit = await repository.commit('first');
    await repository.write({ 'second/.forge/project.cue': projectCue('second') });
    await repository.commit('second');

    const result = await runCommand('forge-pipeline', [
      'discover',
      repository.path,
      '--commit',
      firstCommit,
    ]);

    expect(result.code).toBe(0);
    const output = DiscoveryOutputSchema.parse(JSON.parse(result.stdout));
    expect(output.projects.map((project) => project.name)).toEqual(['first']);
  });

  it('uses the checked-out branch for release triggers unless --branch names one', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': repoCue(),
      'api/.forge/project.cue': projectCue(
        'api',
        'ci: phases: test: unit: {action: "shell", run: "true"}\nrelease: on: [{branch: "main"}]',
      ),
    });

    const onMain = await runCommand('forge-pipeline', ['discover', repository.path]);
    const onFeature = await runCommand('forge-pipeline', [
      'discover',
      repository.path,
      '--branch',
      'feature/x',
    ]);

    expect(DiscoveryOutputSchema.parse(JSON.parse(onMain.stdout)).releaseProjects).toEqual(['api']);
    expect(DiscoveryOutputSchema.parse(JSON.parse(onFeature.stdout)).releaseProjects).toEqual([]);
  });

  it('gives one line and exit 1 for a malformed repo.cue', async () => {
    const repository = await repositoryWith({
      '.forge/repo.cue': 'package repo\n\nforgeVersion: "1.0.0"\nphases: test: {group: 1,, }\n',
    });

    const result = await runCommand('forge-pipeline', ['discover', repository.path]);

    expectOneLineFailure(result, 1, /\.forge\/repo\.cue:4: /);
  });

  it('gives one line and exit 1 for a path that does not exist', async () => {
    const result = await runCommand('forge-pipeline', [
      'discover',
      '/nonexistent/forge-repository',
    ]);

    expectOneLineFailure(
      result,
      1,
      /cannot read repository at \/nonexistent\/forge-repository: no such file or folder/,
    );
  });

  it('gives one line and exit 1 for a folder that is not a Forge repository', async () => {
    const repository = await repositoryWith({ 'README.md': 'hello\n' });

    const result = await runCommand('forge-pipeline', ['discover', repository.path]);

    expectOneLineFailure(result, 1, /\.forge\/repo\.cue not found: this is not a Forge repository/);
  });

  it('gives one line and exit 1 for a repo.cue that cannot be read', async () => {
    const repository = await repositoryWith({ '.forge/repo.cue': repoCue() });
    await chmod(join(repository.path, '.forge/repo.cue'), 0o000);
    await chmod(repository.path, 0o755);
    // Root reads any file whatever its mode, so as root the command runs as nobody.
    const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};

    const result = await runCommand('forge-pipeline', ['discover', repository.path], asNobody);

    expectOneLineFailure(result, 1, /repo\.cue: cannot be read: permission denied/);
  });

  it('exits 2 for a usage error', async () => {
    const result = await runCommand('forge-pipeline', ['discover']);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing required argument 'path'/);
  });

  it('exits 2 for --commit naming no commit', async () => {
    const repository = await repositoryWith({ '.forge/repo.cue': repoCue() });
    await writeFile(join(repository.path, 'untracked.txt'), 'x');

    const result = await runCommand('forge-pipeline', [
      'discover',
      repository.path,
      '--commit',
      'deadbeef',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--commit deadbeef: not a commit of a git repository/);
  });
});
