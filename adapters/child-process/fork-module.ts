import { fork, spawn, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Options of {@link forkModule}. */
export type ForkModuleOptions = ForkOptions & {
  readonly nodeFlags?: readonly string[];
  /**
   * From TypeScript sources, load the module through `tsx`'s require hook instead of its
   * module loader, which runs in a thread of its own: the process is some 25 MB smaller, for
   * a module that must stay small (it may not use top-level `await`).
   */
  readonly loadWithRequire?: boolean;
};

/**
 * Forks a Node process running the module at `moduleUrl`, whether this build runs from
 * compiled JavaScript (production images) or from TypeScript sources (development, tests):
 * a `.ts` module is started with the `tsx` loader, resolved from this package so the
 * caller's working folder does not matter.
 */
export function forkModule(
  moduleUrl: URL,
  args: readonly string[] = [],
  options: ForkModuleOptions = {},
): ChildProcess {
  const { nodeFlags = [], loadWithRequire = false, ...forkOptions } = options;
  const fromSources = moduleUrl.pathname.endsWith('.ts');
  if (fromSources && loadWithRequire) {
    const script = `require(${JSON.stringify(fileURLToPath(moduleUrl))})`;
    return spawn(
      process.execPath,
      [...nodeFlags, '--require', tsxRequireHookPath(), '--eval', script, '--', ...args],
      { ...forkOptions, stdio: forkOptions.stdio ?? ['inherit', 'inherit', 'inherit', 'ipc'] },
    );
  }
  const loader = fromSources ? ['--import', tsxLoaderUrl()] : [];
  return fork(fileURLToPath(moduleUrl), [...args], {
    ...forkOptions,
    execArgv: [...nodeFlags, ...loader],
  });
}

/**
 * Starts a worker thread running the module at `moduleUrl`, from compiled JavaScript or from
 * TypeScript sources: a thread does not inherit this process's module loader, so a `.ts`
 * module is loaded through `tsx`'s require hook (it may not use top-level `await`).
 */
export function startModuleThread(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const script =
    `require(${JSON.stringify(tsxRequireHookPath())});` +
    `require(${JSON.stringify(fileURLToPath(moduleUrl))});`;
  return new Worker(script, { ...options, eval: true });
}

/**
 * The URL of a sibling module of `importMetaUrl` named `name`, with the extension this build
 * runs from (`.ts` from sources, `.js` once compiled).
 */
export function siblingModuleUrl(importMetaUrl: string, name: string): URL {
  const extension = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, importMetaUrl);
}

/**
 * The command line that runs the module at `moduleUrl` with this Node, for processes started
 * through another program (`unshare`, a shell) rather than forked directly.
 */
export function nodeCommandLine(moduleUrl: URL, args: readonly string[] = []): string[] {
  const loader = moduleUrl.pathname.endsWith('.ts') ? ['--import', tsxLoaderUrl()] : [];
  return [process.execPath, ...loader, fileURLToPath(moduleUrl), ...args];
}

function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

function tsxRequireHookPath(): string {
  return createRequire(import.meta.url).resolve('tsx/cjs');
}
