import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { nodeCommandLine } from '../../adapters/child-process/fork-module.js';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The project's root folder, where the command lines run. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The product's command lines. */
export type CommandName = 'forge-pipeline' | 'forge-worker' | 'forge-dispatcher';

/**
 * Starts one of the product's command lines from source, in the project's root folder, with
 * stdout and stderr piped (consume or `resume()` them) and no stdin.
 */
export function spawnCommand(
  name: CommandName,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'> = {},
): ChildProcessByStdio<null, Readable, Readable> {
  const [command, ...commandArgs] = nodeCommandLine(
    new URL(`../../cli/${name}.ts`, import.meta.url),
    args,
  );
  return spawn(command as string, commandArgs, {
    cwd: projectRoot,
    ...options,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Runs one of the product's command lines (`cli/<name>.ts`) from source in a child process,
 * as a user would run the installed bin, and collects its exit code and output.
 */
export function runCommand(
  name: CommandName,
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCommand(name, args, {
      env: { ...process.env, FORGE_DEBUG: '', ...options.env },
      timeout: options.timeoutMs ?? 60_000,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
