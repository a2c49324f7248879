import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepActionUnsupportedError, StepProcessStartError } from './executor-errors.js';
import { ShellExecutor } from './shell-executor.js';
import { StepOutcome } from './step-executor.js';
import {
  earthlyStep,
  isRunning,
  makeTempDir,
  readPid,
  recordedRequest,
  removeTempDir,
  shellStep,
  waitUntil,
} from './testing/step-requests.js';

/** The worker environment the executor may inherit from: PATH, HOME and a credential it must not. */
const baseEnv = {
  PATH: process.env['PATH'],
  HOME: '/home/forge-test',
  AWS_SECRET_ACCESS_KEY: 'worker-credential',
};

describe('ShellExecutor', { timeout: 10_000 }, () => {
  let workdir: string;
  const executor = new ShellExecutor({ baseEnv });

  beforeEach(async () => {
    workdir = await realpath(await makeTempDir('shell-executor'));
  });

  afterEach(async () => {
    await removeTempDir(workdir);
  });

  it('reports success and the output of a command that exits 0', async () => {
    // Arrange
    const recorded = recordedRequest(shellStep('echo hello; echo oops >&2'), workdir);

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    expect(result).toMatchObject({ outcome: StepOutcome.success, exitCode: 0 });
    expect(result.reason).toBeUndefined();
    expect(recorded.output()).toContain('hello\n');
    expect(recorded.output()).toContain('oops\n');
  });

  it('reports failure with the exit code', async () => {
    // Arrange
    const recorded = recordedRequest(shellStep('echo about to fail; exit 3'), workdir);

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    expect(result).toMatchObject({
      outcome: StepOutcome.failed,
      exitCode: 3,
      reason: 'exit code 3',
    });
  });

  it('streams output while the command runs', async () => {
    // Arrange
    const recorded = recordedRequest(shellStep('echo first; sleep 1; echo second'), workdir);
    let settled = false;
    const startedAt = performance.now();

    // Act
    const running = executor.run(recorded.request).finally(() => {
      settled = true;
    });
    await waitUntil(() => recorded.output().includes('first\n'), 5000, 'the first line');
    const firstLineAfterMs = performance.now() - startedAt;
    const settledAtFirstLine = settled;
    const result = await running;

    // Assert
    expect(settledAtFirstLine).toBe(false);
    expect(firstLineAfterMs).toBeLessThan(900);
    expect(result.outcome).toBe(StepOutcome.success);
    expect(recorded.output()).toBe('first\nsecond\n');
  });

  it('kills the whole process group on timeout', async () => {
    // Arrange
    const recorded = recordedRequest(
      shellStep('sleep 60 & echo $! > background.pid; sleep 60'),
      workdir,
      {
        timeoutSeconds: 0.5,
      },
    );

    // Act
    const startedAt = performance.now();
    const result = await executor.run(recorded.request);
    const tookMs = performance.now() - startedAt;
    const background = await readPid(join(workdir, 'background.pid'));

    // Assert
    expect(result).toMatchObject({
      outcome: StepOutcome.timedOut,
      exitCode: null,
      reason: 'timed out after 0.5 s',
    });
    expect(tookMs).toBeLessThan(2500);
    expect(await isRunning(background)).toBe(false);
  });

  it('stops a cancelled step and its background grandchild within 2 s', async () => {
    // Arrange
    const recorded = recordedRequest(
      shellStep(
        '(sleep 60 & echo $! > grandchild.pid; wait) & sleep 60 & echo $! > child.pid; wait',
      ),
      workdir,
    );
    const running = executor.run(recorded.request);
    const grandchild = await readPid(join(workdir, 'grandchild.pid'));
    const child = await readPid(join(workdir, 'child.pid'));

    // Act
    const abortedAt = performance.now();
    recorded.controller.abort(new Error('job cancelled'));
    const result = await running;
    const stoppedAfterMs = performance.now() - abortedAt;

    // Assert
    expect(result).toMatchObject({
      outcome: StepOutcome.cancelled,
      exitCode: null,
      reason: 'cancelled: job cancelled',
    });
    expect(stoppedAfterMs).toBeLessThan(2000);
    expect(await isRunning(child)).toBe(false);
    expect(await isRunning(grandchild)).toBe(false);
  });

  it('kills a step that ignores SIGTERM within 2 s', async () => {
    // Arrange
    const recorded = recordedRequest(
      shellStep("trap '' TERM; sleep 60 & echo $! > child.pid; wait"),
      workdir,
    );
    const running = executor.run(recorded.request);
    const child = await readPid(join(workdir, 'child.pid'));

    // Act
    const abortedAt = performance.now();
    recorded.controller.abort();
    const result = await running;
    const stoppedAfterMs = performance.now() - abortedAt;

    // Assert
    expect(result).toMatchObject({ outcome: StepOutcome.cancelled, reason: 'cancelled' });
    expect(stoppedAfterMs).toBeLessThan(2000);
    expect(await isRunning(child)).toBe(false);
  });

  it('stops what a finished step left running in the background', async () => {
    // Arrange
    const recorded = recordedRequest(
      shellStep('sleep 60 & echo $! > leftover.pid; echo done'),
      workdir,
    );

    // Act
    const startedAt = performance.now();
    const result = await executor.run(recorded.request);
    const leftover = await readPid(join(workdir, 'leftover.pid'));

    // Assert
    expect(result.outcome).toBe(StepOutcome.success);
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect(await isRunning(leftover)).toBe(false);
  });

  it('masks a secret even when its output is split across chunks', async () => {
    // Arrange
    const secret = 'token-value-123';
    const recorded = recordedRequest(
      shellStep(
        "printf 'the token-val'; sleep 0.3; printf 'ue-123 is set\\n'; echo \"$API_TOKEN\" >&2",
      ),
      workdir,
      { secrets: { API_TOKEN: secret } },
    );

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    expect(result.outcome).toBe(StepOutcome.success);
    expect(recorded.output()).toContain('the *** is set\n');
    expect(recorded.output()).toContain('***\n');
    for (const chunk of recorded.chunks) expect(chunk).not.toMatch(/token|val|123/);
  });

  it('runs in the workdir with the minimal inherited environment, the step env and its secrets', async () => {
    // Arrange
    const recorded = recordedRequest(
      shellStep(
        'pwd; echo "home=$HOME run=$FORGE_RUN_ID leaked=${AWS_SECRET_ACCESS_KEY:-none}"; [ "$DB_PASSWORD" = "pw-secret-1" ] && echo secret-ok',
      ),
      workdir,
      { env: { FORGE_RUN_ID: 'run-42' }, secrets: { DB_PASSWORD: 'pw-secret-1' } },
    );

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    expect(result.outcome).toBe(StepOutcome.success);
    expect(recorded.output()).toBe(
      `${workdir}\nhome=/home/forge-test run=run-42 leaked=none\nsecret-ok\n`,
    );
  });

  it('resolves cancelled at once when the signal is already aborted', async () => {
    // Arrange
    const recorded = recordedRequest(shellStep('echo should-not-run'), workdir);
    recorded.controller.abort();

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    expect(result).toMatchObject({ outcome: StepOutcome.cancelled, exitCode: null });
    expect(recorded.output()).toBe('');
  });

  it('throws when the workdir does not exist', async () => {
    // Arrange
    const recorded = recordedRequest(shellStep('true'), join(workdir, 'missing'));

    // Act / Assert
    await expect(executor.run(recorded.request)).rejects.toBeInstanceOf(StepProcessStartError);
  });

  it('throws when the shell cannot be started', async () => {
    // Arrange
    const broken = new ShellExecutor({ baseEnv, shell: join(workdir, 'no-such-shell') });
    const recorded = recordedRequest(shellStep('true'), workdir);

    // Act / Assert
    await expect(broken.run(recorded.request)).rejects.toBeInstanceOf(StepProcessStartError);
  });

  it('refuses an earthly step', async () => {
    // Arrange
    const recorded = recordedRequest(earthlyStep('+build'), workdir);

    // Act / Assert
    await expect(executor.run(recorded.request)).rejects.toBeInstanceOf(StepActionUnsupportedError);
  });
});
