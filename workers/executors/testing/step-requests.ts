import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Step } from '../../../core/contracts/discovery-output.js';
import type { StepRunRequest } from '../step-executor.js';

/** A request under test and what its `output` received. */
export interface RecordedRequest {
  readonly request: StepRunRequest;
  readonly controller: AbortController;
  readonly chunks: string[];
  /** Everything written to `output` so far. */
  output(): string;
}

/** A `shell` step running `run`. */
export function shellStep(run: string, overrides: Partial<Omit<Step, 'action'>> = {}): Step {
  return {
    name: 'test-step',
    priority: 0,
    args: [],
    secrets: [],
    timeout: null,
    ...overrides,
    action: 'shell',
    run,
  };
}

/** An `earthly` step building `target`. */
export function earthlyStep(target: string, overrides: Partial<Omit<Step, 'action'>> = {}): Step {
  return {
    name: 'build',
    priority: 0,
    args: [],
    secrets: [],
    timeout: null,
    ...overrides,
    action: 'earthly',
    target,
  };
}

/** A request with a fresh abort controller whose output is recorded; 30 s timeout by default. */
export function recordedRequest(
  step: Step,
  workdir: string,
  overrides: Partial<Omit<StepRunRequest, 'step' | 'workdir' | 'signal' | 'output'>> = {},
): RecordedRequest {
  const controller = new AbortController();
  const chunks: string[] = [];
  return {
    controller,
    chunks,
    output: () => chunks.join(''),
    request: {
      step,
      workdir,
      env: {},
      secrets: {},
      timeoutSeconds: 30,
      ...overrides,
      signal: controller.signal,
      output: (chunk) => chunks.push(chunk),
    },
  };
}

/** A new temporary folder; remove it with {@link removeTempDir}. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `forge-${prefix}-`));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * Whether a process is still running: false once it has exited, zombies included (a zombie has
 * exited and only waits for its parent, possibly a PID 1 that never reaps).
 */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The pid a step wrote to `file`, once it is there. */
export async function readPid(file: string, timeoutMs = 5000): Promise<number> {
  let pid = Number.NaN;
  await waitUntil(
    async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      pid = Number.parseInt(text.trim(), 10);
      return text.endsWith('\n') && Number.isInteger(pid);
    },
    timeoutMs,
    `a pid in ${file}`,
  );
  return pid;
}
