import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessSpawner, type SpawnedChild } from './process-spawner.js';

/** Collects a child's output by stream and resolves with it and its ending once its pipes close. */
async function finished(child: SpawnedChild) {
  const output = { stdout: '', stderr: '' };
  child.on('output', (stream, chunk) => {
    output[stream] += chunk;
  });
  const exit = once(child, 'exit');
  await once(child, 'close');
  const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];
  return { ...output, code, signal };
}

describe('ProcessSpawner', () => {
  const spawner = new ProcessSpawner();

  afterEach(async () => {
    await spawner.close();
  });

  it('runs a process from its server and relays its pid, output and exit code', async () => {
    const child = spawner.spawn({
      file: '/bin/sh',
      args: ['-c', 'echo "out $GREETING"; echo err >&2; exit 3'],
      env: { GREETING: 'héllo', PATH: process.env.PATH },
    });
    // Listening before the first await: output may arrive in the same message batch as the pid.
    const ending = finished(child);
    const [pid] = (await once(child, 'spawn')) as [number];

    const result = await ending;

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
    const ending = finished(child);
    const [pid] = (await once(child, 'spawn')) as [number];

    const { stdout } = await ending;

    expect(stdout.split('\n').map((line) => line.trim())).toEqual(['/tmp', String(pid), '']);
  });

  it('forks the child from its spawn server, not from this process', async () => {
    const child = spawner.spawn({
      file: '/bin/sh',
      args: ['-c', 'cut -d " " -f 4 /proc/$$/stat'],
      env: {},
    });

    const { stdout, code } = await finished(child);
    const parentPid = Number(stdout.trim());

    expect(code).toBe(0);
    expect(parentPid).toBeGreaterThan(0);
    expect(parentPid).not.toBe(process.pid);
    expect(readFileSync(`/proc/${parentPid}/stat`, 'utf8').split(' ')[3]).toBe(String(process.pid));
  });

  it('reports a program that does not exist as an error with its code', async () => {
    const child = spawner.spawn({ file: '/nonexistent/forge-tool', args: [], env: {} });

    const [error] = (await once(child, 'error')) as [NodeJS.ErrnoException];

    expect(error.code).toBe('ENOENT');
    expect(child.pid).toBeUndefined();
  });

  it('signals a running child, and starts a new server after the old one was closed', async () => {
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
