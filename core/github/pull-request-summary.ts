import { assertNever } from '../assert-never.js';
import type { RunStatusEvent, StatusEventTask } from '../contracts/status-events.js';
import { DurationStyle, formatDuration } from '../format-duration.js';
import { ExecutionStatus, RunStatus, isExecutionStatus } from '../statuses.js';
import { runDurationMs } from './commit-status.js';

/** GitHub refuses comments longer than 65,536 characters; stay well below. */
export const MAX_SUMMARY_LENGTH = 60_000;

/**
 * The hidden line that marks a run's summary comment, so that the fan-out finds the comment it
 * posted (after a restart too) and edits it instead of posting another.
 */
export function summaryMarker(runId: string): string {
  return `<!-- catalyst-forge:run:${runId} -->`;
}

/**
 * The pull-request summary comment of a run: its marker, status, duration, a link to the run,
 * the failure if any, and a table of its tasks by phase group (cut with a count of the rest
 * when it would pass GitHub's size limit). Text that came from a build (failure messages) is
 * escaped so it cannot break the table or fake a marker.
 */
export function renderPullRequestSummary(event: RunStatusEvent): string {
  const duration = runDurationMs(event);
  const took =
    duration === undefined
      ? 'in progress'
      : formatDuration(duration, DurationStyle.minutesAndSeconds);
  const header = [
    summaryMarker(event.run_id),
    '## Pipeline Results',
    '',
    `**Status:** ${statusLabel(event.run_status)}  `,
    `**Duration:** ${took}  `,
    `**Commit:** \`${event.commit_sha.slice(0, 12)}\`  `,
    event.groups_total > 0
      ? `**Phase groups:** ${Math.min(event.groups_completed, event.groups_total)} of ${event.groups_total} complete  `
      : undefined,
    event.target_url === null ? undefined : `**Logs:** [View the run](${event.target_url})`,
  ].filter((line): line is string => line !== undefined);
  const failure = event.failure;
  if (failure !== null) {
    const place = [failure.phase, failure.project, failure.step]
      .filter((part): part is string => part !== null && part !== '')
      .map((part) => `\`${escapeCode(part)}\``)
      .join(' / ');
    header.push(
      '',
      `**Failed ${place === '' ? 'in discovery' : `at ${place}`}:** ${escapeText(failure.message)}`,
    );
  }
  return [...header, '', ...taskTable(event.tasks, MAX_SUMMARY_LENGTH - header.join('\n').length)]
    .join('\n')
    .trimEnd()
    .concat('\n');
}

function taskTable(tasks: readonly StatusEventTask[], room: number): string[] {
  if (tasks.length === 0) return ['_No tasks yet._'];
  const sorted = [...tasks].sort(
    (a, b) =>
      a.group - b.group || a.phase.localeCompare(b.phase) || a.project.localeCompare(b.project),
  );
  const lines = [
    '| Group | Phase | Project | Status | Duration |',
    '| ---: | --- | --- | --- | --- |',
  ];
  let used = lines.join('\n').length + 200;
  for (const [index, task] of sorted.entries()) {
    const took =
      task.duration_ms === null
        ? ''
        : formatDuration(task.duration_ms, DurationStyle.minutesAndSeconds);
    const row = `| ${task.group} | ${escapeText(task.phase)} | ${escapeText(task.project)} | ${statusLabel(task.status)} | ${took} |`;
    if (used + row.length + 1 > room) {
      lines.push(`| | | … and ${sorted.length - index} more tasks | | |`);
      break;
    }
    lines.push(row);
    used += row.length + 1;
  }
  return lines;
}

function statusLabel(status: string): string {
  if (status === RunStatus.discovering) return '🔍 discovering';
  if (!isExecutionStatus(status)) return escapeText(status);
  switch (status) {
    case ExecutionStatus.pending:
      return '⏳ pending';
    case ExecutionStatus.running:
      return '🔄 running';
    case ExecutionStatus.success:
      return '✅ success';
    case ExecutionStatus.failed:
      return '❌ failed';
    case ExecutionStatus.cancelled:
      return '⛔ cancelled';
    case ExecutionStatus.skipped:
      return '⏭️ skipped';
    default:
      return assertNever(status, 'execution status');
  }
}

/** Markdown-safe text for one line or table cell: no HTML, no pipes, no line breaks. */
function escapeText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .slice(0, 1000);
}

function escapeCode(text: string): string {
  return text.replace(/`/g, "'").replace(/\s+/g, ' ');
}
