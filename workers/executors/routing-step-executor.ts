import type { Step } from '../../core/contracts/discovery-output.js';
import { StepActionUnsupportedError } from './executor-errors.js';
import type { StepExecutor, StepRunRequest, StepRunResult } from './step-executor.js';

/** One executor per step action; an action left out is not available on this worker. */
export type StepExecutorsByAction = Partial<Record<Step['action'], StepExecutor>>;

/**
 * The one {@link StepExecutor} a task handler needs: hands each step to the executor of its
 * action (`shell`, `earthly`). A step whose action has no executor here (no BuildKit runners
 * configured, say) throws {@link StepActionUnsupportedError}.
 */
export class RoutingStepExecutor implements StepExecutor {
  constructor(private readonly executors: StepExecutorsByAction) {}

  run(request: StepRunRequest): Promise<StepRunResult> {
    const { step } = request;
    const executor = this.executors[step.action];
    if (executor === undefined) {
      return Promise.reject(new StepActionUnsupportedError(step.name, step.action, 'this worker'));
    }
    return executor.run(request);
  }
}
