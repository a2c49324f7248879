import type { JobRecord } from '../../core/contracts/jobs.js';
import { parseJobId } from '../../core/contracts/jobs.js';
import { assertNever } from '../../core/assert-never.js';
import { DurationStyle, formatDuration } from '../../core/format-duration.js';
import { JobStatus, JobType } from '../../core/statuses.js';
import type { EngineEvent } from '../../engine/run-outcome.js';
import type { RunObserver } from './run-observer.js';

/**
 * Progress as plain lines, one per change, each with the time: what a CI log or a file wants
 * when standard output is not a terminal.
 */
export class PlainRunReporter implements RunObserver {
  readonly #write: (line: string) => void;
  readonly #clock: () => Date;
  /** The last status printed, per job and per job step, so each change prints once. */
  readonly #printed = new Map<string, string>();

  constructor(options: { write: (text: string) => void; clock?: () => Date }) {
    this.#write = options.write;
    this.#clock = options.clock ?? (() => new Date());
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'discovery-started':
        return this.#line(`discovery started (${event.jobId})`);
      case 'discovery-ended':
        return this.#line(`discovery ${event.record.status}${reason(event.record)}`);
      case 'planned': {
        const { plan } = event;
        return this.#line(
          `planned ${plan.taskCount} task(s) in ${plan.groups.length} phase group(s)` +
            (plan.release.enabled ? `, release of ${plan.release.projects.join(', ')}` : ''),
        );
      }
      case 'group-started': {
        const { group } = event;
        const phases = group.phases.map((phase) => phase.name).join(', ');
        return this.#line(
          `group ${group.group} started: ${phases} (${group.tasks.length} task(s))`,
        );
      }
      case 'task-ended': {
        const { task, status, record } = event.outcome;
        if (record !== undefined) this.onRecords([record]);
        const key = task.jobId;
        if (this.#printed.get(key) === status) return;
        this.#printed.set(key, status);
        const took = taskDuration(record);
        return this.#line(
          `task ${task.phase}/${task.project} ${status}${took}${record ? reason(record) : ''}`,
        );
      }
      case 'group-ended':
        return this.#line(`group ${event.group.group} ${event.status}`);
      case 'release-skipped':
        return this.#line(event.reason);
      case 'release-ended':
        return this.#line(`release ${event.outcome.project} ${event.outcome.status}`);
      case 'run-ended': {
        const { outcome } = event;
        const took = outcome.completedAt.getTime() - outcome.startedAt.getTime();
        return this.#line(
          `run ${outcome.status} in ${formatDuration(took, DurationStyle.compact)}`,
        );
      }
      default:
        return assertNever(event, 'engine event');
    }
  }

  onRecords(records: readonly JobRecord[]): void {
    for (const record of records) {
      const parts = parseJobId(record.job_id);
      if (parts?.type !== JobType.task) continue;
      const name = `${parts.phase}/${parts.project}`;
      if (record.status === JobStatus.running && !this.#printed.has(record.job_id)) {
        this.#printed.set(record.job_id, JobStatus.running);
        this.#line(`task ${name} running on ${record.worker_id ?? 'a worker'}`);
      }
      for (const [step, progress] of Object.entries(record.steps ?? {})) {
        const key = `${record.job_id}#${step}`;
        if (this.#printed.get(key) === progress.status) continue;
        this.#printed.set(key, progress.status);
        const took =
          progress.duration_ms === undefined
            ? ''
            : ` in ${formatDuration(progress.duration_ms, DurationStyle.compact)}`;
        const code = progress.exit_code === undefined ? '' : ` (exit ${progress.exit_code})`;
        this.#line(`step ${name}/${step} ${progress.status}${took}${code}`);
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #line(text: string): void {
    const time = this.#clock().toISOString().slice(11, 19);
    this.#write(`${time} ${text}\n`);
  }
}

function reason(record: JobRecord): string {
  return record.error === undefined || record.status === JobStatus.completed
    ? ''
    : `: ${record.error.split('\n')[0] ?? ''}`;
}

function taskDuration(record: JobRecord | undefined): string {
  if (record?.started_at === undefined || record.completed_at === undefined) return '';
  const took = Date.parse(record.completed_at) - Date.parse(record.started_at);
  return ` in ${formatDuration(took, DurationStyle.compact)}`;
}
