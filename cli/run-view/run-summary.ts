import { DurationStyle, formatDuration } from '../../core/format-duration.js';
import type { RunOutcome, TaskOutcome } from '../../engine/run-outcome.js';
import { elapsedMs } from './elapsed-ms.js';

/** Options of {@link formatRunSummary}. */
export interface RunSummaryOptions {
  /** Where a step's log can be read, from its log key (a file in the embedded mode). */
  readonly logLocation: (logKey: string) => string;
}

/**
 * The end-of-run summary: the run's status and duration, every task by group with each
 * step's status, duration and log location, and what made the run fail.
 */
export function formatRunSummary(outcome: RunOutcome, options: RunSummaryOptions): string {
  const rows: string[][] = [];
  const took = outcome.completedAt.getTime() - outcome.startedAt.getTime();
  const discovery = outcome.discovery;
  if (discovery !== undefined) {
    rows.push([
      'discovery',
      discovery.status,
      durationOf(elapsedMs(discovery.started_at, discovery.completed_at)),
      '',
    ]);
  }
  for (const group of outcome.plan?.groups ?? []) {
    rows.push([`group ${group.group}: ${group.phases.map((phase) => phase.name).join(', ')}`]);
    const tasks = outcome.tasks.filter((task) => task.task.group === group.group);
    if (tasks.length === 0) rows.push(['  (no tasks)']);
    for (const task of tasks) rows.push(...taskRows(task, options));
  }
  for (const release of outcome.release) {
    rows.push([`release ${release.project}`, release.status, '', '']);
  }
  const lines = [
    `Run ${outcome.runId} ${outcome.status} in ${formatDuration(took, DurationStyle.compact)}`,
    ...alignColumns(rows),
  ];
  if (outcome.releaseSkipped !== undefined) lines.push(`Note: ${outcome.releaseSkipped}`);
  if (outcome.failure !== undefined) lines.push(`Reason: ${outcome.failure.message}`);
  return `${lines.join('\n')}\n`;
}

function taskRows(outcome: TaskOutcome, options: RunSummaryOptions): string[][] {
  const { task, status, record } = outcome;
  const rows = [
    [
      `  ${task.phase}/${task.project}`,
      status,
      durationOf(elapsedMs(record?.started_at, record?.completed_at)),
      '',
    ],
  ];
  for (const step of task.steps) {
    const progress = record?.steps?.[step.name];
    rows.push([
      `    ${step.name}`,
      progress?.status ?? (record === undefined ? 'skipped' : 'pending'),
      durationOf(progress?.duration_ms),
      progress?.log_key === undefined ? '' : options.logLocation(progress.log_key),
    ]);
  }
  return rows;
}

function durationOf(ms: number | undefined): string {
  return ms === undefined ? '' : formatDuration(ms, DurationStyle.compact);
}

/** Pads every column but the last to its widest cell; a one-cell row is a heading. */
function alignColumns(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    if (row.length < 2) continue;
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row.length < 2
      ? `  ${row[0] ?? ''}`
      : `  ${row
          .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
          .join('  ')
          .trimEnd()}`,
  );
}
