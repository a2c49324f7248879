import type {
  SubmittedWorkflow,
  WorkflowEngine,
  WorkflowRun,
} from '../../core/ports/workflow-engine.js';

/**
 * A workflow engine that only records what it is asked, for tests and benchmarks of the
 * control plane on its own (the engines themselves are tested in test/engine and
 * test/workflow). Submission is idempotent per run, as the real engines' are.
 */
export class RecordingWorkflowEngine implements WorkflowEngine {
  readonly submissions: WorkflowRun[] = [];
  readonly cancellations: string[] = [];
  /** Makes the next submissions fail, as an unreachable cluster would. */
  failNextSubmissions = 0;

  submit(run: WorkflowRun): Promise<SubmittedWorkflow> {
    if (this.failNextSubmissions > 0) {
      this.failNextSubmissions -= 1;
      return Promise.reject(new Error('the workflow engine is unreachable'));
    }
    this.submissions.push(run);
    return Promise.resolve({ name: `recorded-${run.runId}` });
  }

  cancel(runId: string): Promise<void> {
    this.cancellations.push(runId);
    return Promise.resolve();
  }
}
