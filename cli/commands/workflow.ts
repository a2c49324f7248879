import { Command } from 'commander';
import { ConfigurationError } from '../../config/environment.js';
import { loadWorkflowConfig } from '../../config/workflow-environment.js';
import { renderWorkflow } from '../../core/workflow/render-workflow.js';
import { WorkflowRunInvalidError } from '../../core/workflow/workflow-errors.js';
import { UsageError } from '../run-cli.js';

interface WorkflowFlags {
  runId: string;
  repository: string;
  commit: string;
  branch?: string;
  tag?: string;
  cloneUrl?: string;
}

/**
 * `forge-pipeline workflow`: prints the Argo Workflow that a run would be submitted as, as
 * JSON (`kubectl create -f -` takes it), from the same rendering the Argo engine submits. The
 * cluster side (image, namespace, service account, ...) comes from the `FORGE_` workflow
 * variables; `FORGE_DISPATCHER_IMAGE` is required. A bad flag or variable exits 2 with one line.
 */
export function workflowCommand(): Command {
  return new Command('workflow')
    .description("print a run's Argo Workflow as JSON")
    .requiredOption('--run-id <id>', 'the run id (a UUID)')
    .requiredOption('--repository <owner/name>', 'the GitHub repository')
    .requiredOption('--commit <sha>', 'the full commit SHA')
    .option('--branch <name>', 'the branch the run is for')
    .option('--tag <tag>', 'the tag the run is for')
    .option('--clone-url <url>', 'where workers fetch the repository (default: its GitHub URL)')
    .action((flags: WorkflowFlags) => {
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
    });
}
