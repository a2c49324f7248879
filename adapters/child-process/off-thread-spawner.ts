import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import { ForgeError } from '../../core/errors.js';
import { siblingModuleUrl } from './fork-module.js';
import type { SpawnCommand, SpawnEvent, SpawnRequest } from './spawn-protocol.js';

export type { SpawnRequest } from './spawn-protocol.js';

/** Events of a {@link ThreadChild}, in the order a child goes through them. */
export interface ThreadChildEvents {
  /** The child started; `pid` is set. */
  spawn: [pid: number];
  /** It could not start (`code` as `spawn` reports it, e.g. `ENOENT`); nothing follows. */
  error: [error: NodeJS.ErrnoException];
  /** Decoded output, as it arrives. */
  output: [stream: 'stdout' | 'stderr', chunk: string];
  /** The child ended; its pipes may still be open (a background grandchild holds them). */
  exit: [code: number | null, signal: NodeJS.Signals | null];
  /** Its pipes are closed: nothing more follows. */
  close: [];
}

/**
 * A child process started by an {@link OffThreadSpawner}: the part of `ChildProcess` that
 * step and git runners use. Signals to a process group go through `process.kill(-pid)` on
 * any thread; {@link ThreadChild.kill} signals the child itself.
 */
export class ThreadChild extends EventEmitter<ThreadChildEvents> {
  /** Set once the child has started. */
  pid: number | undefined;
  /** Whether `exit` was emitted. */
  exited = false;

  constructor(
    private readonly send: (command: SpawnCommand) => void,
    private readonly id: number,
  ) {
    super();
  }

  /** Sends `signal` to the child (not its group); ignored once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.send({ op: 'kill', id: this.id, signal });
  }

  /** Closes its output pipes, for a child whose escaped grandchildren hold them open. */
  destroyPipes(): void {
    this.send({ op: 'destroy-pipes', id: this.id });
  }
}

/**
 * Starts child processes from a dedicated thread. Node's `spawn` blocks the calling thread
 * until the child has forked and exec'd: several milliseconds each on a busy machine, during
 * which no other job's I/O is served. A worker running dozens of steps and git commands at once
 * spends most of its event loop there, so its spawns happen on this thread instead, and the
 * event loop only relays messages. The thread starts on the first spawn, keeps the process
 * alive only while children run, and is restarted if it ever dies (its children then fail).
 */
export class OffThreadSpawner {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #children = new Map<number, ThreadChild>();

  /** Starts `request`'s child; listen on the returned child for `spawn` or `error` first. */
  spawn(request: SpawnRequest): ThreadChild {
    const worker = this.#ensureWorker();
    const id = this.#nextId;
    this.#nextId += 1;
    const child = new ThreadChild((command) => worker.postMessage(command), id);
    this.#children.set(id, child);
    if (this.#children.size === 1) worker.ref();
    worker.postMessage({ op: 'spawn', id, ...request } satisfies SpawnCommand);
    return child;
  }

  /**
   * Stops the thread. Children still running are left to run (their pipes close with the
   * thread), and are reported ended to their listeners, so that nobody waits for them.
   */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#failAll(worker, new Error('the spawner was closed'));
    await worker.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = startSpawnThread();
    worker.unref();
    worker.on('message', (event: SpawnEvent) => this.#dispatch(event));
    worker.on('error', (error) => this.#failAll(worker, error));
    worker.on('exit', (code) => this.#failAll(worker, new Error(`spawn thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  #dispatch(event: SpawnEvent): void {
    const child = this.#children.get(event.id);
    if (child === undefined) return;
    switch (event.event) {
      case 'spawned':
        child.pid = event.pid;
        child.emit('spawn', event.pid);
        return;
      case 'failed':
        this.#forget(event.id);
        child.emit('error', Object.assign(new Error(event.message), { code: event.code }));
        return;
      case 'output':
        child.emit('output', event.stream, event.chunk);
        return;
      case 'exit':
        child.exited = true;
        child.emit('exit', event.code, event.signal);
        return;
      case 'close':
        this.#forget(event.id);
        child.emit('close');
        return;
      default:
        assertNever(event, 'spawn event');
    }
  }

  #forget(id: number): void {
    this.#children.delete(id);
    if (this.#children.size === 0) this.#worker?.unref();
  }

  /** The thread died: every child it was watching is reported as failed, and the next spawn starts a new thread. */
  #failAll(worker: Worker, cause: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const orphans = [...this.#children.values()];
    this.#children.clear();
    for (const child of orphans) {
      if (child.pid === undefined) {
        child.emit('error', new Error(`cannot start: ${cause.message}`));
      } else {
        if (!child.exited) {
          child.exited = true;
          child.emit('exit', null, null);
        }
        child.emit('close');
      }
    }
  }
}

/** The process's shared spawner. */
let shared: OffThreadSpawner | undefined;

/** The spawner every runner of this process shares (one thread per process). */
export function sharedSpawner(): OffThreadSpawner {
  shared ??= new OffThreadSpawner();
  return shared;
}

/**
 * Starts the thread module from compiled JavaScript, or from TypeScript sources (development,
 * tests) through `tsx`'s loader, which a thread does not inherit from its process.
 */
function startSpawnThread(): Worker {
  const moduleUrl = siblingModuleUrl(import.meta.url, 'spawn-thread');
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl);
  const bootstrap = `import(${JSON.stringify(tsxRegisterApiUrl())}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/** The ES module of `tsx/esm/api`, from its package's exports (its CommonJS twin cannot register for a thread). */
function tsxRegisterApiUrl(): string {
  const packageJsonPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } } | undefined>;
  };
  const entry = manifest.exports['./esm/api']?.import?.default;
  if (entry === undefined) throw new ForgeError('tsx does not export ./esm/api for import');
  return pathToFileURL(join(dirname(packageJsonPath), entry)).href;
}
