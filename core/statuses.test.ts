import { describe, expect, it } from 'vitest';
import { assertNever } from './assert-never.js';
import { ForgeError } from './errors.js';
import {
  EXECUTION_STATUSES,
  JOB_STATUSES,
  RUN_STATUSES,
  isExecutionStatus,
  isJobStatus,
  isJobType,
  isRunStatus,
  isTerminalExecutionStatus,
  isTerminalJobStatus,
  isTerminalRunStatus,
} from './statuses.js';

describe('statuses', () => {
  it('lists every status in lifecycle order', () => {
    // Arrange / Act / Assert
    expect(RUN_STATUSES).toEqual([
      'pending',
      'discovering',
      'running',
      'success',
      'failed',
      'cancelled',
    ]);
    expect(EXECUTION_STATUSES).toEqual([
      'pending',
      'running',
      'success',
      'failed',
      'cancelled',
      'skipped',
    ]);
    expect(JOB_STATUSES).toEqual(['pending', 'running', 'completed', 'failed', 'cancelled']);
  });

  it('treats only ended runs as terminal', () => {
    // Act
    const terminal = RUN_STATUSES.filter(isTerminalRunStatus);

    // Assert
    expect(terminal).toEqual(['success', 'failed', 'cancelled']);
  });

  it('treats skipped executions as terminal, pending and running as not', () => {
    // Act
    const terminal = EXECUTION_STATUSES.filter(isTerminalExecutionStatus);

    // Assert
    expect(terminal).toEqual(['success', 'failed', 'cancelled', 'skipped']);
  });

  it('treats completed, failed and cancelled jobs as terminal', () => {
    // Act
    const terminal = JOB_STATUSES.filter(isTerminalJobStatus);

    // Assert
    expect(terminal).toEqual(['completed', 'failed', 'cancelled']);
  });

  it('narrows unchecked values only when they are known words', () => {
    // Arrange
    const values: unknown[] = [
      'discovering',
      'skipped',
      'completed',
      'release',
      'succeeded',
      42,
      null,
    ];

    // Act
    const verdicts = values.map((value) => [
      isRunStatus(value),
      isExecutionStatus(value),
      isJobStatus(value),
      isJobType(value),
    ]);

    // Assert
    expect(verdicts).toEqual([
      [true, false, false, false],
      [false, true, false, false],
      [false, false, true, false],
      [false, false, false, true],
      [false, false, false, false],
      [false, false, false, false],
      [false, false, false, false],
    ]);
  });

  it('fails loudly on a status that escaped the type system', () => {
    // Arrange
    const fromDatabase = 'succeeded' as never;

    // Act / Assert
    expect(() => isTerminalRunStatus(fromDatabase)).toThrow(ForgeError);
    expect(() => assertNever(fromDatabase, 'run status')).toThrow(
      'Unhandled run status: "succeeded"',
    );
  });
});
