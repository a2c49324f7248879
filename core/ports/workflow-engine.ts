/** What a workflow engine needs to run one pipeline run: the run and the commit it builds. */
export interface WorkflowRun {
  /** The run's UUID; job ids and the workflow's name derive from it. */
  readonly runId: string;
  /** `owner/name`. */
  readonly repository: string;
  /** Where workers fetch the repository from. */
  readonly cloneUrl: string;
  /** The full commit SHA. */
  readonly commit: string;
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
}

/** A submitted run, as the engine names it (the Argo Workflow's name). */
export interface SubmittedWorkflow {
  readonly name: string;
}

/**
 * Executes pipeline runs: Argo Workflows in production, an in-process engine in the embedded
 * mode. Both run the same plan with the same dispatcher logic and deterministic job ids, so
 * submitting a run twice never runs it twice.
 */
export interface WorkflowEngine {
  /** Starts the run; a run already submitted is not started again, its workflow is returned. */
  submit(run: WorkflowRun): Promise<SubmittedWorkflow>;
  /**
   * Stops the run: nothing more is scheduled, running jobs are asked to stop. Cancelling a run
   * that has ended, or was never submitted, does nothing.
   */
  cancel(runId: string): Promise<void>;
}
