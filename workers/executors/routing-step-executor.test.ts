import { describe, expect, it } from 'vitest';
import { StepActionUnsupportedError } from './executor-errors.js';
import { RoutingStepExecutor } from './routing-step-executor.js';
import { StepOutcome, type StepExecutor } from './step-executor.js';
import { earthlyStep, recordedRequest, shellStep } from './testing/step-requests.js';

/** An executor that reports success and remembers the steps it ran. */
function namedExecutor(ran: string[], name: string): StepExecutor {
  return {
    run: (request) => {
      ran.push(`${name}:${request.step.name}`);
      return Promise.resolve({ outcome: StepOutcome.success, exitCode: 0, durationMs: 1 });
    },
  };
}

describe('RoutingStepExecutor', () => {
  it('hands each step to the executor of its action', async () => {
    // Arrange
    const ran: string[] = [];
    const executor = new RoutingStepExecutor({
      shell: namedExecutor(ran, 'shell'),
      earthly: namedExecutor(ran, 'earthly'),
    });

    // Act
    await executor.run(recordedRequest(shellStep('true', { name: 'lint' }), '/tmp').request);
    await executor.run(recordedRequest(earthlyStep('+build', { name: 'image' }), '/tmp').request);

    // Assert
    expect(ran).toEqual(['shell:lint', 'earthly:image']);
  });

  it('refuses a step whose action this worker cannot run', async () => {
    // Arrange
    const executor = new RoutingStepExecutor({ shell: namedExecutor([], 'shell') });

    // Act
    const running = executor.run(recordedRequest(earthlyStep('+build'), '/tmp').request);

    // Assert
    await expect(running).rejects.toBeInstanceOf(StepActionUnsupportedError);
    await expect(running).rejects.toThrow("step build: this worker cannot run 'earthly' steps");
  });
});
