import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs one of the product's command lines (`cli/<name>.ts`) from source in a child process,
 * as a user would run the installed bin, and collects its exit code and output.
 */
export function runCommand(
  name: 'forge-pipeline' | 'forge-worker' | 'forge-dispatcher',
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', tsxLoader, `${projectRoot}cli/${name}.ts`, ...args],
      {
        cwd: projectRoot,
        env: { ...process.env, FORGE_DEBUG: '', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 60_000,
        ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
