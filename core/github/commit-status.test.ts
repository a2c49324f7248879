import { describe, expect, it } from 'vitest';
import {
  MAX_STATUS_DESCRIPTION_LENGTH,
  commitState,
  commitStatusDescription,
  commitStatusFor,
  truncate,
} from './commit-status.js';
import { statusEvent } from './testing/status-event-fixture.js';

describe('commitState', () => {
  it.each([
    ['pending', 'pending'],
    ['discovering', 'pending'],
    ['running', 'pending'],
    ['success', 'success'],
    ['failed', 'failure'],
    ['cancelled', 'error'],
    ['succeeded', 'error'],
    ['', 'error'],
  ])('maps %j to %s', (status, state) => {
    expect(commitState(status)).toBe(state);
  });
});

describe('commitStatusDescription', () => {
  it('says the run started while it discovers', () => {
    expect(commitStatusDescription(statusEvent({ run_status: 'discovering' }))).toBe(
      'Pipeline started - discovering projects...',
    );
  });

  it('names the first phase of N once discovery is done', () => {
    const discovered = statusEvent({ point: 'discovered', run_status: 'running', groups_total: 4 });

    expect(commitStatusDescription(discovered)).toBe('Running phase 1 of 4');
  });

  it('names the next phase and the share done after each group', () => {
    const progress = (completed: number) =>
      commitStatusDescription(
        statusEvent({
          point: 'group_completed',
          run_status: 'running',
          groups_total: 3,
          groups_completed: completed,
        }),
      );

    expect(progress(1)).toBe('Running phase 2 of 3 (33% complete)');
    expect(progress(2)).toBe('Running phase 3 of 3 (66% complete)');
  });

  it('gives the duration of a successful run in minutes and seconds', () => {
    const succeeded = statusEvent({
      point: 'completed',
      run_status: 'success',
      completed_at: '2025-03-01T10:12:07.600Z',
    });

    expect(commitStatusDescription(succeeded)).toBe('Pipeline succeeded in 12m 8s');
  });

  it('names the failed phase, project and step, and the message', () => {
    const failed = statusEvent({
      point: 'completed',
      run_status: 'failed',
      failure: { phase: 'test', project: 'api', step: 'unit', message: 'exit code 2\n  at line 3' },
    });

    expect(commitStatusDescription(failed)).toBe(
      'Pipeline failed at test / api / unit: exit code 2 at line 3',
    );
  });

  it('names discovery when no step failed', () => {
    const failed = statusEvent({
      point: 'completed',
      run_status: 'failed',
      failure: {
        phase: null,
        project: null,
        step: null,
        message: 'repo.cue: forgeVersion missing',
      },
    });

    expect(commitStatusDescription(failed)).toBe(
      'Pipeline failed in discovery: repo.cue: forgeVersion missing',
    );
  });

  it('shortens a long failure message to 140 characters, keeping the step named', () => {
    const failed = statusEvent({
      point: 'completed',
      run_status: 'failed',
      failure: { phase: 'test', project: 'api', step: 'integration', message: 'é'.repeat(500) },
    });

    const description = commitStatusDescription(failed);

    expect(Array.from(description)).toHaveLength(MAX_STATUS_DESCRIPTION_LENGTH);
    expect(description).toMatch(/^Pipeline failed at test \/ api \/ integration: é+…$/);
  });

  it('shortens the whole text when the names alone are too long', () => {
    const failed = statusEvent({
      point: 'completed',
      run_status: 'failed',
      failure: { phase: 'p'.repeat(60), project: 'q'.repeat(60), step: 's', message: 'boom' },
    });

    const description = commitStatusDescription(failed);

    expect(Array.from(description).length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION_LENGTH);
    expect(description.endsWith('…')).toBe(true);
  });

  it('says a cancelled run was cancelled, whatever the point', () => {
    const cancelled = statusEvent({
      point: 'group_completed',
      run_status: 'cancelled',
      groups_total: 2,
    });

    expect(commitStatusDescription(cancelled)).toBe('Pipeline cancelled');
  });
});

describe('commitStatusFor', () => {
  it('uses the context and link of the event, defaulting the context', () => {
    const custom = statusEvent({
      github_context: { context: 'ci/forge-nightly' },
      target_url: 'https://argo.example.com/workflows/forge/run',
    });

    expect(commitStatusFor(custom)).toEqual({
      state: 'pending',
      description: 'Pipeline started - discovering projects...',
      context: 'ci/forge-nightly',
      targetUrl: 'https://argo.example.com/workflows/forge/run',
    });
    expect(commitStatusFor(statusEvent({ github_context: {} })).context).toBe('ci/catalyst-forge');
  });
});

describe('truncate', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(truncate('🚀🚀🚀', 3)).toBe('🚀🚀🚀');
    expect(truncate('🚀🚀🚀🚀', 3)).toBe('🚀🚀…');
  });
});
