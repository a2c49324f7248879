import { describe, expect, it } from 'vitest';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import { runCommand, type CommandResult } from '../support/run-command.js';
import { workflowValidator } from '../workflow/argo-schema.js';

const RUN_ID = '6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b';
const COMMIT = 'ab12'.repeat(10);
const ENV = {
  FORGE_DISPATCHER_IMAGE: 'registry.example.com/forge/dispatcher:1.4.2',
  FORGE_ARGO_NAMESPACE: 'ci',
  FORGE_DISPATCHER_NODE_SELECTOR: 'pool=dispatchers',
};

/** A failure is one line naming the command, and never a stack trace. */
function expectOneLineUsageError(result: CommandResult, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^forge-pipeline: /);
  expect(lines[0]).toMatch(pattern);
}

describe('forge-pipeline workflow', () => {
  it('prints the run’s workflow as JSON, with the repository’s GitHub URL to clone', async () => {
    const result = await runCommand(
      'forge-pipeline',
      [
        'workflow',
        '--run-id',
        RUN_ID,
        '--repository',
        'acme/monorepo',
        '--commit',
        COMMIT,
        '--branch',
        'main',
      ],
      { env: ENV },
    );

    expect(result.code, result.stderr).toBe(0);
    const printed: unknown = JSON.parse(result.stdout);
    const expected = renderWorkflow(
      {
        runId: RUN_ID,
        repository: 'acme/monorepo',
        cloneUrl: 'https://github.com/acme/monorepo.git',
        commit: COMMIT,
        branch: 'main',
      },
      loadWorkflowConfig(ENV).argo?.settings ?? expect.fail('no settings'),
    );
    expect(printed).toEqual(expected);
    expect(workflowValidator({ closed: true })(printed)).toBe(true);
  });

  it('exits 2 with one line for a bad run id, or without a dispatcher image', async () => {
    const args = ['workflow', '--repository', 'acme/monorepo', '--commit', COMMIT];

    const [badRunId, noImage] = await Promise.all([
      runCommand('forge-pipeline', [...args, '--run-id', 'run_1'], { env: ENV }),
      runCommand('forge-pipeline', [...args, '--run-id', RUN_ID], {
        env: { FORGE_DISPATCHER_IMAGE: '' },
      }),
    ]);

    expectOneLineUsageError(badRunId, /run id "run_1" cannot name a workflow/);
    expectOneLineUsageError(noImage, /FORGE_DISPATCHER_IMAGE: is required to render a workflow/);
  });
});
