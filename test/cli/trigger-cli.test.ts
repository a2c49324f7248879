import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { triggerCommand } from '../../cli/commands/trigger.js';
import { runCli } from '../../cli/run-cli.js';
import { FakeForgeApi } from '../infra/fake-forge-api.js';
import { runCommand, type CommandResult } from '../support/run-command.js';

const SHA = 'c'.repeat(40);

// One server for the file; each test sends its own token, so answers never mix.
let api: FakeForgeApi;
let folder: string;

beforeAll(async () => {
  api = await FakeForgeApi.start();
  folder = await mkdtemp(join(tmpdir(), 'forge-trigger-'));
});

afterAll(async () => {
  await api.close();
  await rm(folder, { recursive: true, force: true });
});

function triggerArgs(args: readonly string[]): string[] {
  return ['trigger', '--api-url', api.url, '--repository', 'acme/monorepo', ...args];
}

/**
 * Runs `forge-pipeline trigger` in this process, through the same `runCli` as the bin, with its
 * output collected: starting the whole command line takes seconds, so only one test pays that.
 */
async function triggerInProcess(args: readonly string[]): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const collect = (append: (text: string) => void) => (chunk: string | Uint8Array) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(collect((t) => (stdout += t)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(collect((t) => (stderr += t)));
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = new Command('forge-pipeline').addCommand(triggerCommand());
    await runCli(program, ['node', 'forge-pipeline', ...triggerArgs(args)]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = previousExitCode;
  }
}

describe('forge-pipeline trigger', () => {
  it('starts a run with the given token and prints it as JSON', async () => {
    // Arrange
    api.answerRunsFor('tok-created', { status: 201, body: { id: 'run-9' } });

    // Act
    const result = await runCommand(
      'forge-pipeline',
      triggerArgs(['--commit', SHA, '--branch', 'main', '--pr', '12', '--token', 'tok-created']),
      { timeoutMs: 120_000 },
    );

    // Assert
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      run_id: 'run-9',
      run_url: `${api.url}/v1/runs/run-9`,
      created: true,
    });
    expect(api.requestsTo('/v1/runs', 'tok-created').map((request) => request.body)).toEqual([
      {
        repository: 'acme/monorepo',
        commit_sha: SHA,
        branch: 'main',
        trigger_type: 'pull_request',
        github_context: { pr_number: 12 },
      },
    ]);
  }, 150_000);

  it('reads the token from a file and sends a manual run of a tag', async () => {
    // Arrange
    const tokenFile = join(folder, 'token');
    await writeFile(tokenFile, 'tok-from-file\n');
    api.answerRunsFor('tok-from-file', { status: 200, body: { id: 'run-3' } });

    // Act
    const result = await triggerInProcess([
      '--commit',
      SHA,
      '--tag',
      'api/v1.2.0',
      '--token-file',
      tokenFile,
    ]);

    // Assert
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ run_id: 'run-3', created: false });
    expect(api.requestsTo('/v1/runs', 'tok-from-file').map((request) => request.body)).toEqual([
      { repository: 'acme/monorepo', commit_sha: SHA, tag: 'api/v1.2.0', trigger_type: 'manual' },
    ]);
  });

  it("exits 1 with the API's error message when the API refuses", async () => {
    // Arrange
    api.answerRunsFor('tok-expired', {
      status: 401,
      body: { error: { code: 'unauthorized', message: 'token expired', details: {} } },
    });

    // Act
    const result = await triggerInProcess(['--commit', SHA, '--token', 'tok-expired']);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('forge-pipeline: token expired\n');
  });

  it('exits 2 before sending anything when the commit is not a full SHA', async () => {
    // Arrange, Act
    const result = await triggerInProcess(['--commit', 'abc123', '--token', 'tok-short-sha']);

    // Assert
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^forge-pipeline: commit_sha: must be a full commit SHA/);
    expect(api.requestsTo('/v1/runs', 'tok-short-sha')).toEqual([]);
  });

  it('exits 2 when no token is given', async () => {
    // Arrange, Act
    const result = await triggerInProcess(['--commit', SHA]);

    // Assert
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'forge-pipeline: a token is needed: --token TOKEN or --token-file FILE\n',
    );
  });
});
