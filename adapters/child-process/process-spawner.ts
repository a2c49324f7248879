import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { getPriority, setPriority } from 'node:os';
import { assertNever } from '../../core/assert-never.js';
import { forkModule, siblingModuleUrl } from './fork-module.js';
import type { SpawnCommand, SpawnEvent, SpawnRequest } from './spawn-protocol.js';

export type { SpawnRequest } from './spawn-protocol.js';

/** Events of a {@link SpawnedChild}, in the order a child goes through them. */
export interface SpawnedChildEvents {
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

/** What starts child processes: a {@link ProcessSpawner}, or a pool of them. */
export interface ChildSpawner {
  /** Starts `request`'s child; listen on the returned child for `spawn` or `error` first. */
  spawn(request: SpawnRequest): SpawnedChild;
}

/**
 * A child process started by a {@link ProcessSpawner}: the part of `ChildProcess` that step
 * and git runners use. Signals to a process group go through `process.kill(-pid)` from any
 * process; {@link SpawnedChild.kill} signals the child itself.
 */
export class SpawnedChild extends EventEmitter<SpawnedChildEvents> {
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

/** Options of {@link ProcessSpawner}. */
export interface ProcessSpawnerOptions {
  /**
   * How many nice steps below this process the server runs (capped at the lowest priority,
   * 19); every child it starts inherits that. A spawner for work nothing waits on runs it,
   * and its children, below the rest of the machine. Default 0.
   */
  readonly niceIncrement?: number;
}

/**
 * Starts child processes through a spawn server: one small Node process per worker process,
 * forked on the first spawn. A worker forking its steps and git commands itself pays for its
 * own size at every fork (page tables copied, then a copy-on-write fault for each page it
 * writes until the child has exec'd: over 10 ms of kernel time per child at 200 MB) and blocks
 * its event loop meanwhile; the server's forks cost a fraction of that, away from the event
 * loop, which only relays messages. The server keeps this process alive only while children
 * run, and is started again if it ever dies (its children are then reported ended).
 */
export class ProcessSpawner implements ChildSpawner {
  readonly #niceIncrement: number;
  #server: ChildProcess | undefined;
  #nextId = 1;
  readonly #children = new Map<number, SpawnedChild>();

  constructor(options: ProcessSpawnerOptions = {}) {
    this.#niceIncrement = options.niceIncrement ?? 0;
  }

  /** Children started and not yet closed. */
  get running(): number {
    return this.#children.size;
  }

  /** Starts `request`'s child; listen on the returned child for `spawn` or `error` first. */
  spawn(request: SpawnRequest): SpawnedChild {
    const server = this.#ensureServer();
    const id = this.#nextId;
    this.#nextId += 1;
    const child = new SpawnedChild((command) => send(server, command), id);
    this.#children.set(id, child);
    if (this.#children.size === 1) setKeepsAlive(server, true);
    send(server, { op: 'spawn', id, ...request });
    return child;
  }

  /**
   * Stops the server. Children still running are left to run (their pipes close with the
   * server), and are reported ended to their listeners, so that nobody waits for them.
   */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#failAll(server, new Error('the spawner was closed'));
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    // The server exits when its channel closes.
    if (server.connected) server.disconnect();
    else server.kill('SIGKILL');
    await exited;
  }

  #ensureServer(): ChildProcess {
    if (this.#server !== undefined) return this.#server;
    const server = forkModule(siblingModuleUrl(import.meta.url, 'spawn-server'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
      loadWithRequire: true,
    });
    setKeepsAlive(server, false);
    if (this.#niceIncrement > 0 && server.pid !== undefined) {
      // Before the first spawn command is sent, so every child inherits it. A priority is a
      // hint: a system refusing it leaves the server at ours.
      try {
        setPriority(server.pid, Math.min(19, getPriority() + this.#niceIncrement));
      } catch {
        // Refused (a sandbox without setpriority): run at our priority.
      }
    }
    server.on('message', (event: SpawnEvent) => this.#dispatch(event));
    server.on('error', (error) => this.#failAll(server, error));
    server.on('exit', (code, signal) =>
      this.#failAll(server, new Error(`the spawn server exited (${signal ?? code})`)),
    );
    this.#server = server;
    return server;
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
    if (this.#children.size === 0 && this.#server !== undefined) {
      setKeepsAlive(this.#server, false);
    }
  }

  /** The server died or is closing: every child it was watching is reported ended or failed, and the next spawn starts a new server. */
  #failAll(server: ChildProcess, cause: Error): void {
    if (this.#server !== server) return;
    this.#server = undefined;
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

/** Sends a command; one for a server that has gone is dropped (its children are failed by its exit). */
function send(server: ChildProcess, command: SpawnCommand): void {
  if (server.connected) server.send(command);
}

/** Whether the server and its channel keep this process's event loop alive. */
function setKeepsAlive(server: ChildProcess, keep: boolean): void {
  if (keep) {
    server.ref();
    server.channel?.ref();
  } else {
    server.unref();
    server.channel?.unref();
  }
}
