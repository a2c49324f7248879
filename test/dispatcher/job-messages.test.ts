import { describe, expect, it } from 'vitest';
import { DispatchInputError } from '../../dispatcher/dispatcher-errors.js';
import {
  artifactMessage,
  discoveryMessage,
  parseSteps,
  releaseMessages,
  taskMessage,
} from '../../dispatcher/job-messages.js';
import { COMMIT, UNIT_STEP, jobSource } from './dispatcher-fixtures.js';

describe('job messages', () => {
  it('build a discovery message with the deterministic id and the deadline', () => {
    const source = jobSource();

    const message = discoveryMessage(source);

    expect(message).toEqual({
      job_id: `${source.runId}/discovery`,
      run_id: source.runId,
      type: 'discovery',
      repository: { name: 'acme/monorepo', clone_url: 'https://github.com/acme/monorepo.git' },
      commit_sha: COMMIT,
      branch: 'main',
      deadline: source.deadline.toISOString(),
      payload: {},
    });
  });

  it('build a task message for one project and phase', () => {
    const source = jobSource();

    const message = taskMessage(source, {
      phase: 'test',
      project: 'api',
      projectPath: 'services/api',
      steps: [UNIT_STEP],
    });

    expect(message.job_id).toBe(`${source.runId}/task/test/api`);
    expect(message.payload).toEqual({
      phase: 'test',
      project: { name: 'api', path: 'services/api' },
      steps: [UNIT_STEP],
    });
  });

  it('build one release job per distinct project, and an artifact job per project', () => {
    const source = jobSource();

    const releases = releaseMessages(source, ['api', 'web', 'api']);
    const artifact = artifactMessage(source, 'api');

    expect(releases.map((message) => [message.job_id, message.payload.projects])).toEqual([
      [`${source.runId}/release/api`, ['api']],
      [`${source.runId}/release/web`, ['web']],
    ]);
    expect(artifact.job_id).toBe(`${source.runId}/artifact/api`);
  });

  it.each([
    ['a run id with a slash', () => discoveryMessage({ ...jobSource(), runId: 'a/b' })],
    ['a short commit', () => discoveryMessage({ ...jobSource(), commit: 'abc123' })],
    ['a bad repository', () => discoveryMessage({ ...jobSource(), repository: 'no-owner' })],
    ['an empty release', () => releaseMessages(jobSource(), [])],
    [
      'a project path leaving the repository',
      () =>
        taskMessage(jobSource(), {
          phase: 'test',
          project: 'api',
          projectPath: '../api',
          steps: [UNIT_STEP],
        }),
    ],
  ])('refuse %s as an input error', (_case, build) => {
    expect(build).toThrow(DispatchInputError);
  });
});

describe('parseSteps', () => {
  it('reads steps as discovery outputs them', () => {
    expect(parseSteps(JSON.stringify([UNIT_STEP]), '--steps')).toEqual([UNIT_STEP]);
  });

  it.each([
    ['not JSON', '[{', /--steps is not JSON/],
    ['an empty list', '[]', /--steps is not a list of steps/],
    ['a step without its action', '[{"name":"unit"}]', /--steps is not a list of steps/],
  ])('refuses %s', (_case, text, message) => {
    expect(() => parseSteps(text, '--steps')).toThrow(message);
  });
});
