import { Command } from 'commander';
import type { WorkflowFlags } from './print-workflow.js';

/**
 * `forge-pipeline workflow`: prints the Argo Workflow that a run would be submitted as, as
 * JSON (`kubectl create -f -` takes it), from the same rendering the Argo engine submits. The
 * cluster side (image, namespace, service account, ...) comes from the `FORGE_` workflow
 * variables; `FORGE_DISPATCHER_IMAGE` is required. A bad flag or variable exits 2 with one line.
 * The rendering is loaded only when the command runs.
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
    .action(async (flags: WorkflowFlags) => {
      const { printWorkflow } = await import('./print-workflow.js');
      printWorkflow(flags);
    });
}
