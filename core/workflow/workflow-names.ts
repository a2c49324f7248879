import { WorkflowRunInvalidError } from './workflow-errors.js';

/** The prefix of the labels and annotations this product puts on workflows and their pods. */
export const LABEL_PREFIX = 'forge.projectcatalyst.io';

/** Label keys of a run's workflow and of its pods. */
export const WorkflowLabel = {
  runId: `${LABEL_PREFIX}/run-id`,
  /** `owner.name`, shortened to a label value's 63 characters when longer. */
  repository: `${LABEL_PREFIX}/repository`,
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Annotation keys of a run's workflow: the run's facts, unshortened. */
export const WorkflowAnnotation = {
  repository: `${LABEL_PREFIX}/repository`,
  commit: `${LABEL_PREFIX}/commit`,
  branch: `${LABEL_PREFIX}/branch`,
  tag: `${LABEL_PREFIX}/tag`,
} as const;

/** What manages the workflows, as `app.kubernetes.io/managed-by` says. */
export const MANAGED_BY = 'forge-pipeline';

const WORKFLOW_NAME_PREFIX = 'forge-run-';
/**
 * The name appears as a label value on every pod (`workflows.argoproj.io/workflow`), so it must
 * be a DNS label of at most 63 characters: the run id gets what the prefix leaves.
 */
const MAX_RUN_ID_LENGTH = 63 - WORKFLOW_NAME_PREFIX.length;
const RUN_ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 63;

/**
 * The name of run `runId`'s workflow, `forge-run-<run id in lower case>`: deterministic, so a
 * run submitted twice meets its own workflow, and cancelling needs nothing but the run id.
 * Throws {@link WorkflowRunInvalidError} for an id Kubernetes could not name a workflow after
 * (the product's run ids are UUIDs).
 */
export function workflowName(runId: string): string {
  if (runId.length > MAX_RUN_ID_LENGTH || !RUN_ID_PATTERN.test(runId)) {
    throw new WorkflowRunInvalidError(
      `run id ${JSON.stringify(runId)} cannot name a workflow: use letters, digits and "-" ` +
        `(not first or last), at most ${MAX_RUN_ID_LENGTH} characters, such as a UUID`,
    );
  }
  return `${WORKFLOW_NAME_PREFIX}${runId.toLowerCase()}`;
}

/**
 * A repository `owner/name` as a label value (`owner.name`): `/` is not allowed in label values,
 * and a value longer than 63 characters is cut (the annotation keeps the full name).
 */
export function repositoryLabelValue(repository: string): string {
  const value = repository.replace('/', '.').replace(/[^A-Za-z0-9._-]/g, '-');
  return value.slice(0, MAX_LABEL_VALUE_LENGTH).replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * The page of a workflow in the Argo UI (`<base>/workflows/<namespace>/<name>`), for links in
 * commit statuses and run details.
 */
export function workflowUiUrl(baseUrl: string, namespace: string, name: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/workflows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}
