import { discoveryJobId } from '../core/contracts/jobs.js';
import type { JobStore } from '../core/ports/job-store.js';
import { JobStatus } from '../core/statuses.js';
import { DispatchInputError } from './dispatcher-errors.js';
import { readDiscoveryResult, type ResultReader } from './dispatcher-outputs.js';
import type { TaskInput } from './job-messages.js';

/** The slices of the job plane that reading a run's discovery output needs. */
export interface DiscoveryReader {
  readonly jobs: Pick<JobStore, 'get'>;
  readonly blobs: { readonly results: ResultReader };
}

/**
 * The task of `project` in `phase` as run `runId`'s discovery found it: the project's folder and
 * its steps for the phase, from the discovery output in the results bucket (the completed
 * discovery job's `result_location`). This is how a task dispatcher under Argo learns its
 * steps: Argo's loops carry only phase and project names, so no step a repository author wrote
 * ever passes through Argo's `{{...}}` substitution, and no size limit of Argo's applies to them.
 *
 * Throws `DispatchInputError` when the run's discovery did not complete or found no such task
 * (final: running again finds the same), and `DispatchResultError` when the output cannot be
 * read (a retry may succeed).
 */
export async function loadDiscoveredTask(
  plane: DiscoveryReader,
  runId: string,
  phase: string,
  project: string,
): Promise<TaskInput> {
  const jobId = discoveryJobId(runId);
  const record = await plane.jobs.get(jobId);
  if (record?.status !== JobStatus.completed) {
    throw new DispatchInputError(
      `run ${runId} has no completed discovery (job ${jobId} is ${record?.status ?? 'missing'})`,
    );
  }
  const output = await readDiscoveryResult(plane.blobs.results, record);
  const found = output.projects.find((candidate) => candidate.name === project);
  const steps = found?.phases[phase] ?? [];
  if (found === undefined || steps.length === 0) {
    throw new DispatchInputError(
      `run ${runId}'s discovery has no task for project ${project} in phase ${phase}`,
    );
  }
  return { phase, project, projectPath: found.path, steps };
}
