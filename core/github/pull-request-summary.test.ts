import { describe, expect, it } from 'vitest';
import type { RunStatusEvent } from '../contracts/status-events.js';
import {
  MAX_SUMMARY_LENGTH,
  renderPullRequestSummary,
  summaryMarker,
} from './pull-request-summary.js';
import { RUN_ID, statusEvent, type StatusEventFields } from './testing/status-event-fixture.js';

/** The last event of a failed run: two groups, the first done, four tasks, on a pull request. */
function failedRunEvent(overrides: StatusEventFields = {}): RunStatusEvent {
  return statusEvent({
    point: 'completed',
    run_status: 'failed',
    sequence: 7,
    groups_total: 2,
    groups_completed: 1,
    completed_at: '2025-03-01T10:02:30.000Z',
    target_url: 'https://argo.example.com/workflows/forge/run-1',
    github_context: { pr_number: 42 },
    failure: { phase: 'test', project: 'api', step: 'unit', message: 'expected <1> | got 2' },
    tasks: [
      { phase: 'test', group: 2, project: 'api', status: 'failed', duration_ms: 61_000 },
      { phase: 'build', group: 1, project: 'web', status: 'success', duration_ms: 5000 },
      { phase: 'build', group: 1, project: 'api', status: 'success', duration_ms: 4000 },
      { phase: 'test', group: 2, project: 'web', status: 'cancelled', duration_ms: null },
    ],
    ...overrides,
  });
}

describe('renderPullRequestSummary', () => {
  it('starts with the run marker and gives status, duration, link and failure', () => {
    const body = renderPullRequestSummary(failedRunEvent());

    expect(body.split('\n')[0]).toBe(summaryMarker(RUN_ID));
    expect(body).toContain('**Status:** ❌ failed');
    expect(body).toContain('**Duration:** 2m 30s');
    expect(body).toContain('**Phase groups:** 1 of 2 complete');
    expect(body).toContain('[View the run](https://argo.example.com/workflows/forge/run-1)');
    expect(body).toContain('**Failed at `test` / `api` / `unit`:** expected &lt;1&gt; \\| got 2');
  });

  it('lists the tasks by group, phase and project in a table', () => {
    const rows = renderPullRequestSummary(failedRunEvent())
      .split('\n')
      .filter((line) => /^\| \d/.test(line));

    expect(rows).toEqual([
      '| 1 | build | api | ✅ success | 0m 4s |',
      '| 1 | build | web | ✅ success | 0m 5s |',
      '| 2 | test | api | ❌ failed | 1m 1s |',
      '| 2 | test | web | ⛔ cancelled |  |',
    ]);
  });

  it('escapes build output so it cannot break the table or fake a marker', () => {
    const body = renderPullRequestSummary(
      failedRunEvent({
        failure: {
          phase: 'test',
          project: 'api',
          step: 'unit',
          message: `<!-- catalyst-forge:run:${RUN_ID} --> a | b`,
        },
      }),
    );

    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(body).toContain('&lt;!-- catalyst-forge');
    expect(body).toContain('a \\| b');
  });

  it('says a running run is in progress, with no tasks yet', () => {
    const body = renderPullRequestSummary(
      failedRunEvent({
        point: 'created',
        run_status: 'discovering',
        completed_at: null,
        failure: null,
        groups_total: 0,
        groups_completed: 0,
        tasks: [],
      }),
    );

    expect(body).toContain('**Status:** 🔍 discovering');
    expect(body).toContain('**Duration:** in progress');
    expect(body).toContain('_No tasks yet._');
    expect(body).not.toContain('Phase groups');
  });

  it('cuts a huge table below GitHub’s comment limit, counting the rest', () => {
    const tasks = Array.from({ length: 3000 }, (_, index) => ({
      phase: 'test',
      group: 1,
      project: `project-with-a-rather-long-name-${String(index).padStart(4, '0')}`,
      status: 'success' as const,
      duration_ms: 1000,
    }));

    const body = renderPullRequestSummary(failedRunEvent({ tasks }));

    expect(body.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(body).toMatch(/… and \d+ more tasks/);
  });
});
