import { z } from 'zod';
import {
  CreateRunRequestSchema,
  ErrorCode,
  ListRunsQuerySchema,
  RepositoryFullNameSchema,
  UpdateExecutionStatusRequestSchema,
} from '../../core/contracts/api.js';
import { errorMessage } from '../../core/errors.js';
import {
  PrincipalKind,
  authorizeRepository,
  type Principal,
} from '../../core/ports/authenticator.js';
import { RunNotFoundError } from '../../core/run-progress/run-progress-errors.js';
import { isTerminalRunStatus } from '../../core/statuses.js';
import type { ApiDependencies } from './api-dependencies.js';
import { ApiError } from './api-error.js';
import type { ApiRequest, ApiResponse } from './api-request.js';
import { jobView, runDetailView, runView } from './run-views.js';

/** One route: method, path pattern with named segments, who may call it, what it does. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments starting with `:` are parameters, e.g. `/v1/runs/:id`. */
  readonly path: string;
  /** The kind of caller the route accepts; `undefined` for the open health routes. */
  readonly caller: PrincipalKind | undefined;
  readonly handle: (context: RouteContext) => Promise<ApiResponse>;
}

/** What a route's handler receives. */
export interface RouteContext {
  readonly request: ApiRequest;
  readonly params: Readonly<Record<string, string>>;
  /** Present on every authenticated route. */
  readonly principal: Principal | undefined;
  readonly deps: ApiDependencies;
}

const RunIdSchema = z.uuid('must be a run id (UUID)');
const ExecutionIdSchema = z.uuid('must be an id (UUID)');

/** Every route of DESIGN.md section 6. */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/healthz', caller: undefined, handle: () => ok({ status: 'ok' }) },
  {
    method: 'GET',
    path: '/readyz',
    caller: undefined,
    handle: async ({ deps }) => {
      await deps.ready();
      return { statusCode: 200, body: { status: 'ready' } };
    },
  },
  { method: 'POST', path: '/v1/runs', caller: PrincipalKind.githubActions, handle: createRun },
  { method: 'GET', path: '/v1/runs', caller: PrincipalKind.githubActions, handle: listRuns },
  { method: 'GET', path: '/v1/runs/:id', caller: PrincipalKind.githubActions, handle: getRun },
  {
    method: 'DELETE',
    path: '/v1/runs/:id',
    caller: PrincipalKind.githubActions,
    handle: cancelRun,
  },
  {
    method: 'PUT',
    path: '/v1/tasks/:id/status',
    caller: PrincipalKind.service,
    handle: (context) => updateExecution(context, 'task'),
  },
  {
    method: 'PUT',
    path: '/v1/steps/:id/status',
    caller: PrincipalKind.service,
    handle: (context) => updateExecution(context, 'step'),
  },
  { method: 'GET', path: '/v1/jobs/:runId', caller: PrincipalKind.service, handle: listJobs },
  {
    method: 'PUT',
    path: '/v1/repositories/:owner/:name',
    caller: PrincipalKind.service,
    handle: registerRepository,
  },
];

/** Body of the operator route that registers a repository. */
const RegisterRepositoryRequestSchema = z.object({
  clone_url: z
    .string()
    .min(1)
    .max(2048)
    .refine((url) => !url.startsWith('-'), 'must not start with "-"'),
});

/**
 * `POST /v1/runs`: idempotent on (repository, commit). A new run is created (201) and its
 * workflow submitted; the same commit again returns the existing run (200). A run whose
 * submission failed earlier (no workflow recorded) is submitted again by the retry.
 */
async function createRun({ request, principal, deps }: RouteContext): Promise<ApiResponse> {
  const body = CreateRunRequestSchema.parse(jsonBody(request));
  if (body.branch !== undefined && body.tag !== undefined) {
    throw new ApiError(ErrorCode.unprocessable, 'a run is for a branch or for a tag, not both', {
      branch: body.branch,
      tag: body.tag,
    });
  }
  if (body.trigger_type === 'pull_request' && (body.github_context?.pr_number ?? null) === null) {
    throw new ApiError(
      ErrorCode.unprocessable,
      'a pull_request run needs github_context.pr_number',
    );
  }
  const caller = requirePrincipal(principal);
  authorizeRepository(caller, body.repository);
  // Throws RepositoryNotRegisteredError; the run carries its repository's clone URL.
  const { created, run } = await deps.runs.createRun({ ...body, triggeredBy: actorOf(caller) });
  let submitted = run;
  if (run.workflowName === null && !isTerminalRunStatus(run.status)) {
    const workflow = await deps.engine.submit({
      runId: run.id,
      repository: run.repository,
      cloneUrl: run.cloneUrl,
      commit: run.commitSha,
      branch: run.branch ?? undefined,
      tag: run.tag ?? undefined,
    });
    // One statement records the workflow and claims the run's status events to send.
    const { sendFailure } = await deps.runs.recordSubmission(
      run.id,
      workflow.name,
      deps.statusEvents,
    );
    if (sendFailure !== undefined) warnStatusEventsQueued(deps, run.id, sendFailure);
    submitted = { ...run, workflowName: workflow.name };
  } else {
    await flushStatusEvents(deps, run.id);
  }
  return { statusCode: created ? 201 : 200, body: runView(submitted) };
}

async function getRun({ params, principal, deps }: RouteContext): Promise<ApiResponse> {
  const run = await authorisedRun(params.id, principal, deps);
  return ok(await runDetailView(run, (key) => deps.logs.presignGet(key)));
}

async function listRuns({ request, principal, deps }: RouteContext): Promise<ApiResponse> {
  const query = ListRunsQuerySchema.parse(request.query);
  const caller = requirePrincipal(principal);
  // A workflow token sees its own repository's runs; naming another is refused.
  const repository =
    query.repository ?? (caller.kind === 'github-actions' ? caller.repository : undefined);
  if (repository !== undefined) authorizeRepository(caller, repository);
  const { runs, total } = await deps.runs.listRuns({ ...query, repository });
  return ok({ runs: runs.map(runView), total, limit: query.limit, offset: query.offset });
}

/** `DELETE /v1/runs/{id}`: stops the workflow and cancels what has not ended (202); 409 once ended. */
async function cancelRun({ params, principal, deps }: RouteContext): Promise<ApiResponse> {
  const run = await authorisedRun(params.id, principal, deps);
  if (isTerminalRunStatus(run.status)) {
    throw new ApiError(ErrorCode.conflict, `run ${run.id} has already ended (${run.status})`, {
      status: run.status,
    });
  }
  await deps.engine.cancel(run.id);
  await deps.runs.cancelRun(
    run.id,
    actorOf(requirePrincipal(principal)),
    'cancelled through the API',
  );
  await flushStatusEvents(deps, run.id);
  const after = await deps.runs.getRun(run.id);
  return { statusCode: 202, body: runView(after ?? run) };
}

async function updateExecution(
  { request, params, principal, deps }: RouteContext,
  entity: 'task' | 'step',
): Promise<ApiResponse> {
  const id = ExecutionIdSchema.parse(params.id);
  const body = UpdateExecutionStatusRequestSchema.parse(jsonBody(request));
  const actor = actorOf(requirePrincipal(principal));
  const update =
    entity === 'task'
      ? await deps.runs.updateTaskStatus(id, body, actor)
      : await deps.runs.updateStepStatus(id, body, actor);
  await flushStatusEvents(deps, update.runId);
  return ok({
    id,
    run_id: update.runId,
    status: update.status,
    run_status: update.runStatus,
    outcome: update.transition.outcome,
    ...('reason' in update.transition ? { reason: update.transition.reason } : {}),
  });
}

async function listJobs({ params, deps }: RouteContext): Promise<ApiResponse> {
  const runId = RunIdSchema.parse(params.runId);
  const records = await deps.jobs.listByRun(runId);
  return ok({ run_id: runId, jobs: records.map(jobView) });
}

/**
 * `PUT /v1/repositories/{owner}/{name}` (operators, with a service token): registers a
 * repository with the URL workers clone it from, or changes the URL; runs are refused for a
 * repository nobody registered.
 */
async function registerRepository({ request, params, deps }: RouteContext): Promise<ApiResponse> {
  const fullName = RepositoryFullNameSchema.parse(`${params.owner ?? ''}/${params.name ?? ''}`);
  const body = RegisterRepositoryRequestSchema.parse(jsonBody(request));
  const repository = await deps.runs.registerRepository(fullName, body.clone_url);
  return ok({
    id: repository.id,
    full_name: repository.fullName,
    clone_url: repository.cloneUrl,
    created_at: repository.createdAt,
  });
}

/** The run, after checking the id and that the caller's repository owns it. */
async function authorisedRun(
  id: string | undefined,
  principal: Principal | undefined,
  deps: ApiDependencies,
) {
  const runId = RunIdSchema.parse(id);
  const run = await deps.runs.getRun(runId);
  if (run === undefined) throw new RunNotFoundError(runId);
  authorizeRepository(requirePrincipal(principal), run.repository);
  return run;
}

/**
 * Sends the status events the request produced; GitHub is never allowed to fail a request,
 * and events that could not be sent stay queued for the next flush.
 */
async function flushStatusEvents(deps: ApiDependencies, runId: string): Promise<void> {
  try {
    await deps.runs.flushStatusEvents(deps.statusEvents, runId);
  } catch (error) {
    warnStatusEventsQueued(deps, runId, error);
  }
}

function warnStatusEventsQueued(deps: ApiDependencies, runId: string, error: unknown): void {
  deps.logger.warn('status events not sent; they stay queued', {
    runId,
    error: errorMessage(error),
  });
}

function jsonBody(request: ApiRequest): unknown {
  if (request.body === undefined || request.body.trim() === '') {
    throw new ApiError(ErrorCode.badRequest, 'the request needs a JSON body');
  }
  try {
    return JSON.parse(request.body) as unknown;
  } catch (error) {
    throw new ApiError(ErrorCode.badRequest, `the body is not JSON: ${errorMessage(error)}`);
  }
}

function requirePrincipal(principal: Principal | undefined): Principal {
  if (principal === undefined) throw new Error('an authenticated route ran without a principal');
  return principal;
}

/** Who did it, for the run and the audit log: the workflow's actor, else the token's subject. */
function actorOf(principal: Principal): string {
  const actor = principal.claims.actor;
  return typeof actor === 'string' && actor !== ''
    ? `${actor} (${principal.subject})`
    : principal.subject;
}

function ok(body: unknown): Promise<ApiResponse> {
  return Promise.resolve({ statusCode: 200, body });
}
