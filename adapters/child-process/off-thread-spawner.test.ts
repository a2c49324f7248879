import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { OffThreadSpawner, type ThreadChild } from './off-thread-spawner.js';

/** Collects a child's output by stream and resolves with it and its ending once its pipes close. */
async function finished(child: ThreadChild) {
  const output = { stdout: '', stderr: '' };
  child.on('output', (stream, chunk) => {
    output[stream] += chunk;
  });
  const exit = once(child, 'exit');
  await once(child, 'close');
  const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];
  return { ...output, code, signal };
}

describe('OffThreadSpawner', () => {
  const spawner = new OffThreadSpawner();

  afterEach(async () => {
    await spawner.close();
  });

  it('runs a process from its thread and relays its pid, output and exit code', async () => {
    const child = spawner.spawn({
      file: '/bin/sh',
      args: ['-c', 'echo "out $GREETING"; echo err >&2; exit 3'],
      env: { GREETING: 'héllo', PATH: process.env.PATH },
    });
    const [pid] = (await once(child, 'spawn')) as [number];

    const result = await finished(child);

    expect(pid).toBeGreaterThan(0);
    expect(child.pid).toBe(pid);
    expect(result).toEqual({ stdout: 'out héllo\n', stderr: 'err\n', code: 3, signal: null });
  });

  it('runs the process in the folder it is given, as a group leader when detached', async () => {
    const child = spawner.spawn({
      file: '/bin/sh',
      args: ['-c', 'pwd; cut -d " " -f 5 /proc/$$/stat'],
      cwd: '/tmp',
      env: { PATH: process.env.PATH },
      detached: true,
    });
    const [pid] = (await once(child, 'spawn')) as [number];

    const { stdout } = await finished(child);

    expect(stdout.split('\n').map((line) => line.trim())).toEqual(['/tmp', String(pid), '']);
  });

  it('reports a program that does not exist as an error with its code', async () => {
    const child = spawner.spawn({ file: '/nonexistent/forge-tool', args: [], env: {} });

    const [error] = (await once(child, 'error')) as [NodeJS.ErrnoException];

    expect(error.code).toBe('ENOENT');
    expect(child.pid).toBeUndefined();
  });

  it('signals a running child, and starts a new thread after the old one was closed', async () => {
    const sleeper = spawner.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
    await once(sleeper, 'spawn');

    sleeper.kill('SIGTERM');
    const killed = await finished(sleeper);
    const left = spawner.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
    const [leftPid] = (await once(left, 'spawn')) as [number];
    const leftEnded = once(left, 'close');
    await spawner.close();
    await leftEnded;
    process.kill(leftPid, 'SIGKILL');
    const after = await finished(
      spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo again'], env: {} }),
    );

    expect(killed).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(after).toMatchObject({ stdout: 'again\n', code: 0 });
  });
});
