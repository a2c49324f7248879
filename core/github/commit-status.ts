import { assertNever } from '../assert-never.js';
import { DEFAULT_GITHUB_STATUS_CONTEXT } from '../contracts/api.js';
import {
  StatusPoint,
  type RunStatusEvent,
  type StatusEventFailure,
} from '../contracts/status-events.js';
import { DurationStyle, formatDuration } from '../format-duration.js';
import { RunStatus, isRunStatus } from '../statuses.js';

/** GitHub's longest commit status description. */
export const MAX_STATUS_DESCRIPTION_LENGTH = 140;

/** The states a GitHub commit status can have. */
export const CommitState = {
  pending: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
} as const;
/** One of {@link CommitState}. */
export type CommitState = (typeof CommitState)[keyof typeof CommitState];

/** A commit status as GitHub takes it (`POST /repos/{owner}/{repo}/statuses/{sha}`). */
export interface CommitStatus {
  readonly state: CommitState;
  readonly description: string;
  readonly context: string;
  readonly targetUrl: string | null;
}

/**
 * The GitHub state of a run status (DESIGN.md section 7): pending, discovering and running are
 * `pending`; success `success`; failed `failure`; cancelled, and anything this build does not
 * know (a newer producer's status), `error`.
 */
export function commitState(status: string): CommitState {
  if (!isRunStatus(status)) return CommitState.error;
  switch (status) {
    case RunStatus.pending:
    case RunStatus.discovering:
    case RunStatus.running:
      return CommitState.pending;
    case RunStatus.success:
      return CommitState.success;
    case RunStatus.failed:
      return CommitState.failure;
    case RunStatus.cancelled:
      return CommitState.error;
    default:
      return assertNever(status, 'run status');
  }
}

/** The commit status one event sets: state, description, context and link. */
export function commitStatusFor(event: RunStatusEvent): CommitStatus {
  return {
    state: commitState(event.run_status),
    description: commitStatusDescription(event),
    context: event.github_context.context || DEFAULT_GITHUB_STATUS_CONTEXT,
    targetUrl: event.target_url,
  };
}

/**
 * The description of the commit status at each point of a run (DESIGN.md section 7), at most
 * 140 characters: "Pipeline started - discovering projects...", "Running phase 1 of N",
 * "Running phase X of N (Y% complete)", "Pipeline succeeded in Xm Ys", a failure naming the
 * failed phase, project and step, or "Pipeline cancelled". A terminal run status wins over the
 * point, so a late-arriving point never reads as progress.
 */
export function commitStatusDescription(event: RunStatusEvent): string {
  const status = event.run_status;
  switch (status) {
    case RunStatus.success: {
      const duration = runDurationMs(event);
      return duration === undefined
        ? 'Pipeline succeeded'
        : `Pipeline succeeded in ${formatDuration(duration, DurationStyle.minutesAndSeconds)}`;
    }
    case RunStatus.failed:
      return failureDescription(event.failure);
    case RunStatus.cancelled:
      return 'Pipeline cancelled';
    case RunStatus.pending:
    case RunStatus.discovering:
    case RunStatus.running:
      return progressDescription(event);
    default:
      return assertNever(status, 'run status');
  }
}

/** How long the run took, when it has ended. */
export function runDurationMs(event: RunStatusEvent): number | undefined {
  if (event.completed_at === null) return undefined;
  return Math.max(0, Date.parse(event.completed_at) - Date.parse(event.started_at));
}

/**
 * Cuts `text` to at most `max` characters (Unicode code points, as GitHub counts them), ending
 * a cut text with an ellipsis.
 */
export function truncate(text: string, max: number): string {
  const characters = Array.from(text);
  if (characters.length <= max) return text;
  return `${characters
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
}

function progressDescription(event: RunStatusEvent): string {
  const point = event.point;
  const total = event.groups_total;
  switch (point) {
    case StatusPoint.created:
      return 'Pipeline started - discovering projects...';
    case StatusPoint.discovered:
      return total === 0 ? 'Discovery complete - no phases to run' : `Running phase 1 of ${total}`;
    case StatusPoint.groupCompleted:
    case StatusPoint.completed: {
      if (total === 0) return 'Pipeline running';
      const completed = Math.min(event.groups_completed, total);
      const current = Math.min(completed + 1, total);
      const percent = Math.floor((completed / total) * 100);
      return `Running phase ${current} of ${total} (${percent}% complete)`;
    }
    default:
      return assertNever(point, 'status point');
  }
}

/**
 * "Pipeline failed at <phase> / <project> / <step>: <message>", or "... in discovery: ..."; the
 * message is shortened first, so the failed step stays named within 140 characters.
 */
function failureDescription(failure: StatusEventFailure | null): string {
  if (failure === null) return 'Pipeline failed';
  const place = [failure.phase, failure.project, failure.step].filter(
    (part): part is string => part !== null && part !== '',
  );
  const prefix =
    place.length === 0 ? 'Pipeline failed in discovery' : `Pipeline failed at ${place.join(' / ')}`;
  const message = failure.message.replace(/\s+/g, ' ').trim();
  if (message === '') return truncate(prefix, MAX_STATUS_DESCRIPTION_LENGTH);
  const room = MAX_STATUS_DESCRIPTION_LENGTH - Array.from(prefix).length - 2;
  if (room < 12) return truncate(`${prefix}: ${message}`, MAX_STATUS_DESCRIPTION_LENGTH);
  return `${prefix}: ${truncate(message, room)}`;
}
