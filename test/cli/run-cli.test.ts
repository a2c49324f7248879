import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand as runCommandDefinition } from '../../cli/commands/run.js';
import { DEFAULT_EMBEDDED_TASK_CONCURRENCY } from '../../engine/embedded-pipeline.js';
import { projectRoot, runCommand, spawnCommand } from '../support/run-command.js';

/*
 * `forge-pipeline run` as a user runs it: a separate process with the embedded job plane,
 * both worker pools and the in-process engine, on the sample monorepo and copies of it.
 * Output is not a terminal here, so progress comes as plain lines.
 */

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(
    folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })),
  );
});

async function temporaryFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

/** A copy of the sample monorepo, with `api`'s unit step replaced by `run`. */
async function sampleWithApiUnitStep(run: string): Promise<string> {
  const copy = join(await temporaryFolder('forge-sample-'), 'monorepo');
  await cp(join(projectRoot, 'examples/monorepo'), copy, { recursive: true });
  const file = join(copy, 'services/api/.forge/project.cue');
  const text = await readFile(file, 'utf8');
  const replaced = text.replace(
    /unit: \{action: "shell", run: "[^"]*"/,
    `unit: {action: "shell", run: "${run}"`,
  );
  expect(replaced).not.toBe(text);
  await writeFile(file, replaced);
  return copy;
}

describe('forge-pipeline run', () => {
  it('runs the sample monorepo to success and summarises every step with its log', async () => {
    // Arrange
    const dataDir = await temporaryFolder('forge-run-data-');

    // Act
    const result = await runCommand(
      'forge-pipeline',
      ['run', 'examples/monorepo', '--data-dir', dataDir, '--branch', 'feature'],
      { timeoutMs: 60_000 },
    );

    // Assert
    expect(result.stderr).toContain('running a snapshot of its files');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/group 1 started: lint, test \(5 task\(s\)\)/);
    expect(result.stdout).toMatch(/run success in /);
    const logLine = result.stdout.split('\n').find((line) => line.endsWith('/test/api/unit.log'));
    expect(logLine, result.stdout).toMatch(/^\s+unit\s+success\s+\S+\s+\S+$/);
    const logPath = logLine?.trim().split(/\s+/).at(-1) ?? '';
    expect(logPath.startsWith(dataDir)).toBe(true);
    expect((await readFile(logPath, 'utf8')).length).toBeGreaterThan(0);
  });

  it('exits 1 and names the failed step when a step fails', async () => {
    // Arrange
    const repository = await sampleWithApiUnitStep('echo broken >&2; exit 7');
    const dataDir = await temporaryFolder('forge-run-data-');

    // Act
    const result = await runCommand('forge-pipeline', ['run', repository, '--data-dir', dataDir], {
      timeoutMs: 60_000,
    });

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Run \S+ failed in /);
    expect(result.stdout).toContain('Reason: step unit of test/api failed');
    expect(result.stdout).not.toMatch(/group 2 started/);
    expect(result.stdout).toMatch(/build\/api\s+skipped/);
  });

  it('cancels the run on Ctrl-C: the running step is stopped and the summary says cancelled', async () => {
    // Arrange
    const repository = await sampleWithApiUnitStep('sleep 60');
    const dataDir = await temporaryFolder('forge-run-data-');
    const child = spawnCommand('forge-pipeline', ['run', repository, '--data-dir', dataDir]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const giveUpAt = Date.now() + 30_000;
    while (!/step test\/api\/unit running/.test(stdout) && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Act
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const code = await exited;

    // Assert
    expect(code).toBe(1);
    expect(Date.now() - interruptedAt).toBeLessThan(15_000);
    expect(stdout).toMatch(/Run \S+ cancelled in /);
    expect(stdout).toMatch(/test\/api\s+cancelled/);
  });

  it('exits 2 for a folder that does not exist and for a commit the repository lacks', async () => {
    // Arrange
    const dataDir = await temporaryFolder('forge-run-data-');

    // Act
    const missing = await runCommand('forge-pipeline', [
      'run',
      join(dataDir, 'nowhere'),
      '--data-dir',
      dataDir,
    ]);
    const badCommit = await runCommand('forge-pipeline', [
      'run',
      '.',
      '--commit',
      'no-such-ref',
      '--data-dir',
      dataDir,
    ]);

    // Assert
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^forge-pipeline: .+/);
    expect(badCommit.code).toBe(2);
    expect(badCommit.stderr).toContain('no-such-ref is not a commit');
  });

  it("offers the engine's default task concurrency as its own", () => {
    // Act
    const concurrency = runCommandDefinition().options.find(
      (option) => option.long === '--concurrency',
    );

    // Assert
    expect(concurrency?.defaultValue).toBe(DEFAULT_EMBEDDED_TASK_CONCURRENCY);
    expect(concurrency?.description).toContain(`(default ${DEFAULT_EMBEDDED_TASK_CONCURRENCY})`);
  });
});
