import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import { assertNever } from '../../core/assert-never.js';
import type { SpawnCommand, SpawnEvent } from './spawn-protocol.js';

/**
 * The thread behind {@link OffThreadSpawner}: it calls `spawn`, which blocks its caller until
 * the child has forked and exec'd, so that the main thread's event loop does not block, and
 * relays each child's output and ending as {@link SpawnEvent}s.
 */
function serve(port: NonNullable<typeof parentPort>): void {
  const children = new Map<number, ChildProcess>();
  const send = (event: SpawnEvent): void => port.postMessage(event);

  port.on('message', (command: SpawnCommand) => {
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
}

if (parentPort !== null) serve(parentPort);
