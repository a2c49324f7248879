import type { RunRequestFields, RunTriggerType } from './run-request.js';
import { TriggerError } from './trigger-error.js';

/** The action's inputs that shape the request. */
export interface GitHubTriggerInputs {
  /** The commit status context; the API's default when empty. */
  readonly statusContext?: string | undefined;
  /** `push`, `pull_request` or `manual`; from the event when empty. */
  readonly triggerType?: string | undefined;
}

const TRIGGER_TYPES: readonly RunTriggerType[] = ['push', 'pull_request', 'manual'];

/**
 * What a run is for, from the environment of a GitHub Actions job and its event payload (the
 * JSON at `GITHUB_EVENT_PATH`). For pull requests the run builds the pull request's head commit
 * on its branch (`GITHUB_SHA` would be the merge commit GitHub made) and reports to the pull
 * request; for pushes, `GITHUB_SHA` on the pushed branch or tag; any other event (manual
 * dispatch, schedule) is a `manual` run of `GITHUB_SHA`.
 */
export function githubRunFields(
  env: NodeJS.ProcessEnv,
  event: unknown,
  inputs: GitHubTriggerInputs = {},
): RunRequestFields {
  const repository = required(env, 'GITHUB_REPOSITORY');
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const pullRequest = objectField(event, 'pull_request');
  const isPullRequest = pullRequest !== undefined && eventName.startsWith('pull_request');
  const triggerType = chosenTriggerType(inputs.triggerType, eventName, isPullRequest);
  const statusContext = nonEmpty(inputs.statusContext);
  const actionsRunId = nonEmpty(env.GITHUB_RUN_ID);
  if (isPullRequest) {
    const head = objectField(pullRequest, 'head');
    const number = field(pullRequest, 'number');
    return {
      repository,
      commit: stringField(head, 'sha') ?? required(env, 'GITHUB_SHA'),
      branch: stringField(head, 'ref') ?? nonEmpty(env.GITHUB_HEAD_REF),
      triggerType,
      prNumber: typeof number === 'number' ? number : undefined,
      actionsRunId,
      statusContext,
    };
  }
  const refName = nonEmpty(env.GITHUB_REF_NAME);
  const isTag = env.GITHUB_REF_TYPE === 'tag';
  return {
    repository,
    commit: required(env, 'GITHUB_SHA'),
    branch: isTag ? undefined : refName,
    tag: isTag ? refName : undefined,
    triggerType,
    actionsRunId,
    statusContext,
  };
}

function chosenTriggerType(
  input: string | undefined,
  eventName: string,
  isPullRequest: boolean,
): RunTriggerType {
  const chosen = nonEmpty(input);
  if (chosen !== undefined) {
    const known = TRIGGER_TYPES.find((type) => type === chosen);
    if (known === undefined) {
      throw new TriggerError(`trigger-type "${chosen}": use one of ${TRIGGER_TYPES.join(', ')}`);
    }
    return known;
  }
  if (isPullRequest) return 'pull_request';
  return eventName === 'push' ? 'push' : 'manual';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = nonEmpty(env[name]);
  if (value === undefined)
    throw new TriggerError(`${name} is not set: run this inside GitHub Actions`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function objectField(value: unknown, name: string): object | undefined {
  const found = field(value, name);
  return typeof found === 'object' && found !== null ? found : undefined;
}

function stringField(value: unknown, name: string): string | undefined {
  const found = field(value, name);
  return typeof found === 'string' && found !== '' ? found : undefined;
}
