/**
 * Runs `forge-dispatcher` from source in a child process that a test can watch and signal:
 * its stderr as it arrives, `waitFor` a log line, `kill`, and its exit.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnCommand } from '../support/run-command.js';

/** A running dispatcher. */
export interface DispatcherProcess {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr contains `text`; rejects if the process exits first. */
  waitFor(text: string): Promise<void>;
  /** Resolves with the exit code (`null` when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `forge-dispatcher <args>` with `env` over the test process's environment. */
export function startDispatcher(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): DispatcherProcess {
  const child = spawnCommand('forge-dispatcher', args, {
    env: { ...process.env, FORGE_DEBUG: '', ...env },
  });
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    stderr: () => stderr,
    exited,
    waitFor(text) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!stderr.includes(text)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void exited.then(({ code, signal }) => {
          if (!stderr.includes(text)) {
            reject(new Error(`dispatcher exited (${code ?? signal}) before "${text}": ${stderr}`));
          }
        });
      });
    },
  };
}
