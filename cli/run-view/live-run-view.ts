import { Listr, PRESET_TIMER, type ListrTask, type ListrTaskWrapper } from 'listr2';
import { assertNever } from '../../core/assert-never.js';
import type { JobRecord } from '../../core/contracts/jobs.js';
import type { PlannedGroup, PlannedTask, RunPlan } from '../../core/plan/run-plan.js';
import { ExecutionStatus, JobStatus } from '../../core/statuses.js';
import type { EngineEvent, TaskOutcome } from '../../engine/run-outcome.js';
import type { RunObserver } from './run-observer.js';

/** A value that arrives later, settled once. */
class Later<T> {
  readonly promise: Promise<T>;
  #resolve: (value: T) => void = () => undefined;
  #settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.#resolve = resolve;
    });
  }

  resolve(value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(value);
  }
}

// listr2's wrapper type is generic over renderers this view never names.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TaskWrapper = ListrTaskWrapper<unknown, any, any>;

/** One task row: settled by the engine's event, titled from the job's record meanwhile. */
interface TaskRow {
  readonly task: PlannedTask;
  readonly ended: Later<TaskOutcome | undefined>;
  wrapper?: TaskWrapper;
}

/**
 * The live view of a run on a terminal (listr2): discovery, then each phase group with its
 * tasks, each task's title following its job (waiting, running with the current step, ended
 * with its duration) and the release stage. Listr only displays here: the engine runs the
 * run, and every row just waits for the engine to say how it ended.
 */
export class LiveRunView implements RunObserver {
  readonly #discovery = new Later<JobRecord | undefined>();
  readonly #plan = new Later<RunPlan | undefined>();
  readonly #rows = new Map<string, TaskRow>();
  readonly #done: Promise<void>;

  constructor(options: { title: string }) {
    const listr = new Listr<unknown>(
      [
        { title: 'Discovery', task: (_, wrapper) => this.#discoveryRow(wrapper) },
        { title: 'Phase groups', task: (_, wrapper) => this.#groupsRow(wrapper) },
      ],
      {
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: { collapseSubtasks: false, collapseSkips: false, timer: PRESET_TIMER },
      },
    );
    process.stdout.write(`${options.title}\n`);
    this.#done = listr.run().then(
      () => undefined,
      () => undefined,
    );
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'discovery-ended':
        this.#discovery.resolve(event.record);
        break;
      case 'planned':
        for (const group of event.plan.groups) {
          for (const task of group.tasks) {
            this.#rows.set(task.jobId, { task, ended: new Later() });
          }
        }
        this.#plan.resolve(event.plan);
        break;
      case 'task-ended':
        this.#rows.get(event.outcome.task.jobId)?.ended.resolve(event.outcome);
        break;
      case 'run-ended':
        this.#discovery.resolve(event.outcome.discovery);
        this.#plan.resolve(event.outcome.plan);
        break;
      case 'discovery-started':
      case 'group-started':
      case 'group-ended':
      case 'release-ended':
      case 'release-skipped':
        // Rows follow their own tasks; the summary reports the release stage.
        break;
      default:
        assertNever(event, 'engine event');
    }
  }

  onRecords(records: readonly JobRecord[]): void {
    for (const record of records) {
      const row = this.#rows.get(record.job_id);
      if (row?.wrapper === undefined || record.status !== JobStatus.running) continue;
      const running = Object.entries(record.steps ?? {})
        .filter(([, progress]) => progress.status === ExecutionStatus.running)
        .map(([step]) => step);
      const done = Object.values(record.steps ?? {}).filter(
        (progress) => progress.status === ExecutionStatus.success,
      ).length;
      const doing = running.length === 0 ? 'starting' : `running ${running.join(', ')}`;
      row.wrapper.title = `${taskName(row.task)}: ${doing} (${done}/${row.task.steps.length} steps done)`;
    }
  }

  /** Settles every row still waiting (the run has ended) and waits for the last frame. */
  async close(): Promise<void> {
    this.#discovery.resolve(undefined);
    this.#plan.resolve(undefined);
    for (const row of this.#rows.values()) row.ended.resolve(undefined);
    await this.#done;
  }

  async #discoveryRow(wrapper: TaskWrapper): Promise<void> {
    const record = await this.#discovery.promise;
    if (record === undefined) {
      wrapper.skip('Discovery did not run');
      return;
    }
    wrapper.title = `Discovery ${record.status}`;
    if (record.status !== JobStatus.completed) {
      throw new Error(`Discovery ${record.status}: ${record.error ?? 'no reason was recorded'}`);
    }
  }

  async #groupsRow(wrapper: TaskWrapper): Promise<Listr<unknown> | void> {
    const plan = await this.#plan.promise;
    if (plan === undefined) {
      wrapper.skip('Phase groups: not run');
      return;
    }
    return wrapper.newListr(
      plan.groups.map((group) => this.#groupRow(group)),
      { concurrent: false, exitOnError: false },
    );
  }

  #groupRow(group: PlannedGroup): ListrTask<unknown> {
    const phases = group.phases.map((phase) => phase.name).join(', ');
    return {
      title: `Group ${group.group}: ${phases}`,
      task: (_, wrapper) =>
        wrapper.newListr(
          group.tasks.map((task) => this.#taskRow(task)),
          { concurrent: true, exitOnError: false },
        ),
    };
  }

  #taskRow(task: PlannedTask): ListrTask<unknown> {
    return {
      title: `${taskName(task)}: waiting`,
      task: async (_, wrapper) => {
        const row = this.#rows.get(task.jobId);
        if (row === undefined) return;
        row.wrapper = wrapper;
        const outcome = await row.ended.promise;
        const status = outcome?.status ?? ExecutionStatus.skipped;
        wrapper.title = `${taskName(task)}: ${status}`;
        if (status === ExecutionStatus.failed) {
          throw new Error(`${taskName(task)} failed: ${outcome?.record?.error ?? ''}`);
        }
        if (status !== ExecutionStatus.success) wrapper.skip(`${taskName(task)}: ${status}`);
      },
    };
  }
}

function taskName(task: PlannedTask): string {
  return `${task.phase}/${task.project}`;
}
