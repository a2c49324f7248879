import { describe, expect, it } from 'vitest';
import { BuildkitRunnerPool, RunnerCircuit } from './buildkit-runner-pool.js';
import { BuildkitRunnersUnavailableError, StepExecutorOptionsError } from './executor-errors.js';

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** What `action` returned, or the error it threw. */
function attempt(action: () => unknown): unknown {
  try {
    return action();
  } catch (error) {
    return error;
  }
}

const A = 'tcp://runner-a:8372';
const B = 'tcp://runner-b:8372';
const C = 'tcp://runner-c:8372';

describe('BuildkitRunnerPool', () => {
  it('picks the least busy runner, spreading ties', () => {
    // Arrange
    const pool = new BuildkitRunnerPool({ addresses: [A, B, C] });

    // Act
    const first = pool.acquire();
    const second = pool.acquire();
    const third = pool.acquire();
    second.release('reachable');
    const fourth = pool.acquire();

    // Assert
    expect([first.address, second.address, third.address]).toEqual([A, B, C]);
    expect(fourth.address).toBe(B);
    expect(pool.snapshot().map((runner) => runner.inFlight)).toEqual([1, 1, 1]);
  });

  it('skips excluded runners and says so when nothing is left', () => {
    // Arrange
    const pool = new BuildkitRunnerPool({ addresses: [A, B] });

    // Act
    const lease = pool.acquire(new Set([A]));

    // Assert
    expect(lease.address).toBe(B);
    expect(() => pool.acquire(new Set([A, B]))).toThrow(BuildkitRunnersUnavailableError);
  });

  it('opens a circuit after the threshold of consecutive connection failures', () => {
    // Arrange
    const clock = fakeClock();
    const pool = new BuildkitRunnerPool({ addresses: [A], failureThreshold: 3, now: clock.now });

    // Act
    for (let attempt = 0; attempt < 2; attempt++) pool.acquire().release('connection-failure');
    const stillClosed = pool.snapshot()[0]?.circuit;
    pool.acquire().release('connection-failure');

    // Assert
    expect(stillClosed).toBe(RunnerCircuit.closed);
    expect(pool.snapshot()[0]).toMatchObject({
      circuit: RunnerCircuit.open,
      consecutiveFailures: 3,
    });
    expect(() => pool.acquire()).toThrow(/runner-a:8372 circuit open.*half-opens in 30 s/);
  });

  it('resets the failure count when a runner answers', () => {
    // Arrange
    const pool = new BuildkitRunnerPool({ addresses: [A], failureThreshold: 2 });

    // Act
    pool.acquire().release('connection-failure');
    pool.acquire().release('reachable');
    pool.acquire().release('connection-failure');

    // Assert
    expect(pool.snapshot()[0]).toMatchObject({
      circuit: RunnerCircuit.closed,
      consecutiveFailures: 1,
    });
  });

  it('half-opens after the cool-down for one trial, which closes the circuit on success', () => {
    // Arrange
    const clock = fakeClock();
    const pool = new BuildkitRunnerPool({
      addresses: [A],
      failureThreshold: 1,
      coolDownMs: 30_000,
      now: clock.now,
    });
    pool.acquire().release('connection-failure');

    // Act
    clock.advance(29_999);
    const beforeCoolDown = attempt(() => pool.acquire());
    clock.advance(1);
    const circuitAfterCoolDown = pool.snapshot()[0]?.circuit;
    const trial = pool.acquire();
    const whileTrialRuns = attempt(() => pool.acquire());
    trial.release('reachable');

    // Assert
    expect(beforeCoolDown).toBeInstanceOf(BuildkitRunnersUnavailableError);
    expect(circuitAfterCoolDown).toBe(RunnerCircuit.halfOpen);
    expect(trial.address).toBe(A);
    expect(String(whileTrialRuns)).toMatch(/half-open, trial running/);
    expect(pool.snapshot()[0]).toMatchObject({
      circuit: RunnerCircuit.closed,
      consecutiveFailures: 0,
    });
  });

  it('reopens the circuit for another cool-down when the trial fails', () => {
    // Arrange
    const clock = fakeClock();
    const pool = new BuildkitRunnerPool({
      addresses: [A],
      failureThreshold: 3,
      coolDownMs: 10_000,
      now: clock.now,
    });
    for (let attempt = 0; attempt < 3; attempt++) pool.acquire().release('connection-failure');
    clock.advance(10_000);

    // Act
    pool.acquire().release('connection-failure');

    // Assert
    expect(pool.snapshot()[0]?.circuit).toBe(RunnerCircuit.open);
    clock.advance(9_999);
    expect(() => pool.acquire()).toThrow(BuildkitRunnersUnavailableError);
    clock.advance(1);
    expect(pool.acquire().address).toBe(A);
  });

  it('lets another trial run when a trial ends without a verdict', () => {
    // Arrange
    const clock = fakeClock();
    const pool = new BuildkitRunnerPool({
      addresses: [A],
      failureThreshold: 1,
      coolDownMs: 5,
      now: clock.now,
    });
    pool.acquire().release('connection-failure');
    clock.advance(5);

    // Act
    pool.acquire().release('unknown');
    const nextTrial = pool.acquire();

    // Assert
    expect(nextTrial.address).toBe(A);
    expect(pool.snapshot()[0]?.circuit).toBe(RunnerCircuit.halfOpen);
  });

  it('ignores a second release of the same lease', () => {
    // Arrange
    const pool = new BuildkitRunnerPool({ addresses: [A], failureThreshold: 2 });
    const lease = pool.acquire();

    // Act
    lease.release('connection-failure');
    lease.release('connection-failure');

    // Assert
    expect(pool.snapshot()[0]).toMatchObject({ inFlight: 0, consecutiveFailures: 1 });
  });

  it('refuses unusable options', () => {
    // Act / Assert
    expect(() => new BuildkitRunnerPool({ addresses: [] })).toThrow(StepExecutorOptionsError);
    expect(() => new BuildkitRunnerPool({ addresses: [A, A] })).toThrow(StepExecutorOptionsError);
    expect(() => new BuildkitRunnerPool({ addresses: [A], failureThreshold: 0 })).toThrow(
      StepExecutorOptionsError,
    );
    expect(() => new BuildkitRunnerPool({ addresses: [A], coolDownMs: -1 })).toThrow(
      StepExecutorOptionsError,
    );
  });
});
