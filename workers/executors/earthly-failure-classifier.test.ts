import { describe, expect, it } from 'vitest';
import { classifyEarthlyFailure } from './earthly-failure-classifier.js';

describe('classifyEarthlyFailure', () => {
  it('recognises a runner that cannot be reached, with the line as evidence', () => {
    // Arrange
    const output = [
      'buildkitd | Connecting to tcp://runner-a:8372...',
      'Error: connect provided buildkit: timeout 1m0s: could not connect to buildkit: dial tcp 10.0.0.7:8372: connect: connection refused',
    ].join('\n');

    // Act
    const failure = classifyEarthlyFailure(1, output);

    // Assert
    expect(failure).toEqual({
      kind: 'connection',
      evidence: expect.stringContaining('could not connect to buildkit'),
    });
  });

  it('treats a failed RUN as a build failure even when its output mentions a connection', () => {
    // Arrange
    const output = [
      '+test | curl: (7) Failed to connect to example.com port 80: Connection refused',
      'Error: build target: +test: process "/bin/sh -c curl example.com" did not complete successfully: exit code: 7',
    ].join('\n');

    // Act
    const failure = classifyEarthlyFailure(1, output);

    // Assert
    expect(failure).toEqual({ kind: 'build' });
  });

  it('treats exit code 7 (buildkitd crashed or went away) as a connection failure', () => {
    // Act
    const failure = classifyEarthlyFailure(7, 'Error: It seems that buildkitd is shutting down');

    // Assert
    expect(failure).toEqual({ kind: 'connection', evidence: 'exit code 7' });
  });

  it('treats anything unrecognised as a build failure', () => {
    // Act
    const failure = classifyEarthlyFailure(1, 'Error: Earthfile line 3: unknown command FOO');

    // Assert
    expect(failure).toEqual({ kind: 'build' });
  });

  it('uses the rules it is given', () => {
    // Arrange
    const rules = {
      connectionPatterns: [/runner offline/g],
      buildFailurePatterns: [],
      connectionExitCodes: [],
    };

    // Act
    const first = classifyEarthlyFailure(1, 'runner offline', rules);
    const second = classifyEarthlyFailure(1, 'runner offline', rules);
    const refused = classifyEarthlyFailure(1, 'connection refused', rules);

    // Assert
    expect(first.kind).toBe('connection');
    expect(second.kind).toBe('connection');
    expect(refused.kind).toBe('build');
  });
});
