import { ConfigurationError } from '../../config/environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import { WorkflowRunInvalidError } from '../../core/workflow/workflow-errors.js';
import { UsageError } from '../run-cli.js';

/** The flags of `forge-pipeline workflow`. */
export interface WorkflowFlags {
  runId: string;
  repository: string;
  commit: string;
  branch?: string;
  tag?: string;
  cloneUrl?: string;
}

/**
 * What `forge-pipeline workflow` does: prints the Argo Workflow of a run as JSON, rendered as
 * the Argo engine renders it, with the cluster side from the `FORGE_` workflow variables. No
 * `FORGE_DISPATCHER_IMAGE` is a {@link ConfigurationError}, a run the workflow cannot name a
 * {@link UsageError}.
 */
export function printWorkflow(flags: WorkflowFlags): void {
  const { argo } = loadWorkflowConfig();
  if (argo === undefined) {
    throw new ConfigurationError('FORGE_DISPATCHER_IMAGE', 'is required to render a workflow');
  }
  try {
    const manifest = renderWorkflow(
      {
        runId: flags.runId,
        repository: flags.repository,
        cloneUrl: flags.cloneUrl ?? `https://github.com/${flags.repository}.git`,
        commit: flags.commit,
        branch: flags.branch,
        tag: flags.tag,
      },
      argo.settings,
    );
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    if (error instanceof WorkflowRunInvalidError) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  }
}
