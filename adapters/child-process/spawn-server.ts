import { spawn, type ChildProcess } from 'node:child_process';
import { assertNever } from '../../core/assert-never.js';
import type { SpawnCommand, SpawnEvent } from './spawn-protocol.js';

/**
 * The small process behind {@link ProcessSpawner}. `fork` copies the page tables of the
 * process that calls it, and that process then takes a copy-on-write fault for every page it
 * writes until the child has exec'd: for a worker of a few hundred megabytes, over 10 ms of
 * kernel time per child, several children per job. This process stays small, so the forks
 * are cheap, and it relays each child's output and ending as {@link SpawnEvent}s over the IPC
 * channel. It lives exactly as long as that channel: it ignores the terminal's and the
 * container runtime's stop signals (its parent decides what stops) and exits when its
 * parent goes away.
 */
function serve(): void {
  const children = new Map<number, ChildProcess>();
  const send = (event: SpawnEvent): void => {
    if (process.connected) process.send?.(event);
  };

  process.on('message', (command: SpawnCommand) => {
    switch (command.op) {
      case 'spawn': {
        const { id } = command;
        const child = spawn(command.file, [...command.args], {
          cwd: command.cwd,
          env: command.env,
          detached: command.detached ?? false,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.set(id, child);
        if (child.pid !== undefined) send({ id, event: 'spawned', pid: child.pid });
        child.on('error', (error: NodeJS.ErrnoException) => {
          // After a successful start only a failed kill lands here, and kills report nothing.
          if (child.pid !== undefined) return;
          children.delete(id);
          send({ id, event: 'failed', code: error.code, message: error.message });
        });
        for (const stream of ['stdout', 'stderr'] as const) {
          child[stream]?.setEncoding('utf8');
          child[stream]?.on('data', (chunk: string) =>
            send({ id, event: 'output', stream, chunk }),
          );
        }
        child.once('exit', (code, signal) => send({ id, event: 'exit', code, signal }));
        child.once('close', () => {
          children.delete(id);
          send({ id, event: 'close' });
        });
        return;
      }
      case 'kill':
        children.get(command.id)?.kill(command.signal);
        return;
      case 'destroy-pipes': {
        const child = children.get(command.id);
        child?.stdout?.destroy();
        child?.stderr?.destroy();
        return;
      }
      default:
        assertNever(command, 'spawn command');
    }
  });
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C reaches the whole foreground group, and a runtime may signal every process; the
  // parent stops what must stop (it still needs this process to hear its steps end).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
}

if (process.send !== undefined) serve();
