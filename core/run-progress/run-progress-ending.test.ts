import { describe, expect, it } from 'vitest';
import { RunStatusEventSchema } from '../contracts/status-events.js';
import { deriveRunProgress } from './derive-run-progress.js';
import { cancelRun } from './explicit-changes.js';
import { RunProgressDraft } from './run-progress-draft.js';
import { buildRunStatusEvent } from './run-status-facts.js';
import {
  at,
  buildApi,
  discovered,
  job,
  reconcile,
  snapshotOf,
  statuses,
} from './testing/sample-run.js';

describe('cancelRun', () => {
  it('cancels what runs, skips what waits, and changes nothing when asked again', () => {
    // Arrange
    const running = reconcile([
      discovered,
      job(buildApi, {
        status: 'running',
        started_at: at(3),
        steps: { compile: { status: 'running', started_at: at(3) } },
      }),
    ]).snapshot;
    const draft = new RunProgressDraft(running, { now: new Date(at(10)) });

    // Act
    const result = cancelRun(draft, 'user:alice', 'superseded');
    deriveRunProgress(draft);
    const again = cancelRun(draft, 'user:bob');

    // Assert
    expect(result.outcome).toBe('applied');
    expect(again).toEqual({ outcome: 'unchanged' });
    expect(statuses(snapshotOf(draft))).toMatchObject({
      run: 'cancelled',
      phases: { build: 'cancelled', audit: 'skipped', test: 'skipped' },
      tasks: { 'task/build/api': 'cancelled', 'task/build/web': 'skipped' },
      steps: { 'task/build/api/compile': 'cancelled', 'task/build/api/vet': 'skipped' },
    });
    expect(draft.run).toMatchObject({ completedAt: at(10), error: 'superseded' });
    expect(
      draft
        .changes()
        .statusChanges.filter((change) => change.actor === 'user:alice')
        .map((change) => `${change.entity} ${change.from}→${change.to}`),
    ).toContain('run running→cancelled');
  });
});

describe('buildRunStatusEvent', () => {
  it('carries the facts of a failed run: groups, first failed step, tasks with durations', () => {
    // Arrange
    const { snapshot } = reconcile([
      discovered,
      job(buildApi, {
        status: 'failed',
        started_at: at(3),
        completed_at: at(5),
        error: 'compile broke',
        steps: {
          compile: { status: 'failed', exit_code: 2, started_at: at(3), completed_at: at(5) },
        },
      }),
    ]);
    const draft = new RunProgressDraft(snapshot, { now: new Date(at(59)) });

    // Act
    const event = buildRunStatusEvent(draft, 'completed', 4);

    // Assert
    expect(RunStatusEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      point: 'completed',
      run_status: 'failed',
      sequence: 4,
      groups_total: 2,
      groups_completed: 0,
      failure: { phase: 'build', project: 'api', step: 'compile', message: 'compile broke' },
    });
    expect(event.tasks[0]).toEqual({
      phase: 'build',
      group: 1,
      project: 'api',
      status: 'failed',
      duration_ms: 120_000,
    });
  });
});
