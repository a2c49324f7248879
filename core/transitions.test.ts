import { describe, expect, it } from 'vitest';
import { EXECUTION_STATUSES, JOB_STATUSES, RUN_STATUSES } from './statuses.js';
import type { ExecutionStatus, JobStatus, RunStatus } from './statuses.js';
import {
  StatusTransitionError,
  assertTransition,
  transitionExecution,
  transitionJob,
  transitionRun,
  transitionStatus,
} from './transitions.js';
import type { TransitionResult } from './transitions.js';

/** A = applied, U = unchanged, T = ignored terminal, S = ignored stale, I = ignored invalid. */
type Code = 'A' | 'U' | 'T' | 'S' | 'I';

function code(result: TransitionResult<string>): Code {
  if (result.outcome === 'applied') return 'A';
  if (result.outcome === 'unchanged') return 'U';
  return ({ terminal: 'T', stale: 'S', invalid: 'I' } as const)[result.reason];
}

/** Every (current, requested) pair with its expected code, rows = current, columns = requested. */
function pairs<S extends string>(statuses: readonly S[], matrix: Record<S, string>) {
  return statuses.flatMap((current) =>
    statuses.map((requested, column) => ({
      current,
      requested,
      expected: matrix[current].split(' ')[column] as Code,
    })),
  );
}

describe('transitionRun', () => {
  // requested:   pending discovering running success failed cancelled
  const matrix: Record<RunStatus, string> = {
    pending: 'U A A A A A',
    discovering: 'S U A A A A',
    running: 'S S U A A A',
    success: 'T T T U T T',
    failed: 'T T T T U T',
    cancelled: 'T T T T T U',
  };

  it.each(pairs(RUN_STATUSES, matrix))('$current → $requested is $expected', (pair) => {
    // Act
    const result = transitionRun(pair.current, pair.requested);

    // Assert
    expect(code(result)).toBe(pair.expected);
    if (result.outcome === 'applied') expect(result.status).toBe(pair.requested);
  });
});

describe('transitionExecution', () => {
  // requested:  pending running success failed cancelled skipped
  const matrix: Record<ExecutionStatus, string> = {
    pending: 'U A A A A A',
    running: 'S U A A A I',
    success: 'T T U T T T',
    failed: 'T T T U T T',
    cancelled: 'T T T T U T',
    skipped: 'T T T T T U',
  };

  it.each(pairs(EXECUTION_STATUSES, matrix))('$current → $requested is $expected', (pair) => {
    // Act
    const result = transitionExecution(pair.current, pair.requested);

    // Assert
    expect(code(result)).toBe(pair.expected);
  });

  it('applies an early success and then ignores the late running update', () => {
    // Arrange
    const first = transitionExecution('pending', 'success');

    // Act
    const late = transitionExecution('success', 'running');

    // Assert
    expect(first).toEqual({ outcome: 'applied', status: 'success' });
    expect(late).toEqual({ outcome: 'ignored', reason: 'terminal' });
  });
});

describe('transitionJob', () => {
  // requested:  pending running completed failed cancelled
  const matrix: Record<JobStatus, string> = {
    pending: 'U A A A A',
    running: 'S U A A A',
    completed: 'T T U T T',
    failed: 'T T T U T',
    cancelled: 'T T T T U',
  };

  it.each(pairs(JOB_STATUSES, matrix))('$current → $requested is $expected', (pair) => {
    // Act
    const result = transitionJob(pair.current, pair.requested);

    // Assert
    expect(code(result)).toBe(pair.expected);
  });
});

describe('transitionStatus', () => {
  it('uses the execution rules for phases, tasks and steps, and each machine for its entity', () => {
    // Act
    const results = [
      transitionStatus('phase', 'running', 'skipped'),
      transitionStatus('task', 'pending', 'skipped'),
      transitionStatus('step', 'running', 'pending'),
      transitionStatus('run', 'running', 'discovering'),
      transitionStatus('job', 'running', 'completed'),
    ];

    // Assert
    expect(results.map(code)).toEqual(['I', 'A', 'S', 'S', 'A']);
  });
});

describe('assertTransition', () => {
  it('returns applied and unchanged results', () => {
    // Act
    const applied = assertTransition('run', 'pending', 'discovering');
    const unchanged = assertTransition('job', 'completed', 'completed');

    // Assert
    expect(applied).toEqual({ outcome: 'applied', status: 'discovering' });
    expect(unchanged).toEqual({ outcome: 'unchanged' });
  });

  it('throws a non-retryable StatusTransitionError naming the refused change', () => {
    // Act
    const thrown = catchError(() => assertTransition('step', 'running', 'skipped'));

    // Assert
    expect(thrown).toBeInstanceOf(StatusTransitionError);
    expect(thrown).toMatchObject({
      name: 'StatusTransitionError',
      entity: 'step',
      from: 'running',
      to: 'skipped',
      reason: 'invalid',
      retryable: false,
    });
    expect((thrown as Error).message).toBe(
      'step status cannot change from running to skipped: that change is not allowed',
    );
  });

  it('refuses to move a terminal run', () => {
    // Act / Assert
    expect(() => assertTransition('run', 'cancelled', 'running')).toThrow(
      'run status cannot change from cancelled to running: it has already ended',
    );
  });
});

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}
