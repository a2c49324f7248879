// Generated from action/src by `npm run build:action`; do not edit.
import { TriggerError } from './trigger-error.js';
const TRIGGER_TYPES = ['push', 'pull_request', 'manual'];
/**
 * What a run is for, from the environment of a GitHub Actions job and its event payload (the
 * JSON at `GITHUB_EVENT_PATH`). For pull requests the run builds the pull request's head commit
 * on its branch (`GITHUB_SHA` would be the merge commit GitHub made) and reports to the pull
 * request; for pushes, `GITHUB_SHA` on the pushed branch or tag; any other event (manual
 * dispatch, schedule) is a `manual` run of `GITHUB_SHA`.
 */
export function githubRunFields(env, event, inputs = {}) {
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
function chosenTriggerType(input, eventName, isPullRequest) {
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
function required(env, name) {
  const value = nonEmpty(env[name]);
  if (value === undefined)
    throw new TriggerError(`${name} is not set: run this inside GitHub Actions`);
  return value;
}
function nonEmpty(value) {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
function field(value, name) {
  return typeof value === 'object' && value !== null ? value[name] : undefined;
}
function objectField(value, name) {
  const found = field(value, name);
  return typeof found === 'object' && found !== null ? found : undefined;
}
function stringField(value, name) {
  const found = field(value, name);
  return typeof found === 'string' && found !== '' ? found : undefined;
}
