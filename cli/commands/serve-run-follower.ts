import { z } from 'zod';
import type { CreateRunRequestInput } from '../../core/contracts/api.js';
import { ForgeError } from '../../core/errors.js';

/** How often the follower reads the run while it goes on. */
const POLL_MS = 500;
/** A run of the sample takes seconds; this bounds a run that never ends (a stuck reconciler). */
const FOLLOW_LIMIT_MS = 30 * 60_000;

/** The API refused the run, or the run could not be read. */
export class RunFollowError extends ForgeError {}

const StepSchema = z.object({
  name: z.string(),
  status: z.string(),
  exit_code: z.number().nullable(),
});
const TaskSchema = z.object({
  project: z.string(),
  status: z.string(),
  steps: z.array(StepSchema),
});
const PhaseSchema = z.object({
  name: z.string(),
  group: z.number(),
  status: z.string(),
  tasks: z.array(TaskSchema),
});
const RunSchema = z.object({
  id: z.string(),
  status: z.string(),
  error: z.string().nullable().optional(),
  phases: z.array(PhaseSchema).default([]),
});

/** Options of {@link followRun}. */
export interface FollowRunOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly request: CreateRunRequestInput;
  readonly write: (text: string) => void;
  /** Resolves when the user stops the server: following ends early. */
  readonly stopped: Promise<void>;
}

/**
 * Starts a run through `POST /v1/runs` as a client would, prints each change of the run, its
 * phases, tasks and steps as it reads them back from `GET /v1/runs/{id}`, and at the end the
 * whole run as the API returns it.
 */
export async function followRun(
  options: FollowRunOptions,
): Promise<{ id: string; status: string }> {
  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  const created = await fetch(`${options.apiUrl}/v1/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify(options.request),
  });
  const createdBody = await created.json();
  if (!created.ok) {
    throw new RunFollowError(
      `POST /v1/runs answered ${created.status}: ${JSON.stringify(createdBody)}`,
    );
  }
  const { id } = RunSchema.pick({ id: true }).parse(createdBody);
  options.write(
    `POST /v1/runs → ${created.status} ${created.status === 201 ? 'created' : 'existing'} run ${id}\n`,
  );
  let stop = false;
  void options.stopped.then(() => (stop = true));
  const seen = new Map<string, string>();
  const giveUpAt = Date.now() + FOLLOW_LIMIT_MS;
  for (;;) {
    const response = await fetch(`${options.apiUrl}/v1/runs/${id}`, { headers });
    const body = await response.json();
    if (!response.ok) {
      throw new RunFollowError(
        `GET /v1/runs/${id} answered ${response.status}: ${JSON.stringify(body)}`,
      );
    }
    const run = RunSchema.parse(body);
    for (const [key, status] of statuses(run)) {
      if (seen.get(key) === status) continue;
      seen.set(key, status);
      options.write(`${new Date().toISOString().slice(11, 19)} ${key} ${status}\n`);
    }
    const ended = ['success', 'failed', 'cancelled'].includes(run.status);
    if (ended || stop || Date.now() > giveUpAt) {
      options.write(`\nGET /v1/runs/${id}\n${JSON.stringify(body, null, 2)}\n`);
      return { id, status: run.status };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function statuses(run: z.infer<typeof RunSchema>): [string, string][] {
  const lines: [string, string][] = [['run', run.status]];
  for (const phase of run.phases) {
    lines.push([`group ${phase.group} phase ${phase.name}`, phase.status]);
    for (const task of phase.tasks) {
      lines.push([`task ${phase.name}/${task.project}`, task.status]);
      for (const step of task.steps) {
        const code = step.exit_code === null ? '' : ` (exit ${step.exit_code})`;
        lines.push([`step ${phase.name}/${task.project}/${step.name}`, `${step.status}${code}`]);
      }
    }
  }
  return lines;
}
