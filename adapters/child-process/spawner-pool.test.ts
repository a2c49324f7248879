import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnerPool, SpawnerPoolOptionsError } from './spawner-pool.js';

/** Field `field` (1-based, as `man proc` numbers them) of `/proc/<pid>/stat`. */
function statField(pid: number, field: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field - 3]);
}

/** The parent pid of `pid`. */
const parentOf = (pid: number): number => statField(pid, 4);

/** The nice value of `pid`. */
const nicenessOf = (pid: number): number => statField(pid, 19);

describe('SpawnerPool', () => {
  const pool = new SpawnerPool(2);

  afterEach(async () => {
    await pool.close();
  });

  it('starts children side by side from the server with the fewest running', async () => {
    const first = pool.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
    const second = pool.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
    const [[firstPid], [secondPid]] = (await Promise.all([
      once(first, 'spawn'),
      once(second, 'spawn'),
    ])) as [[number], [number]];
    const servers = [parentOf(firstPid), parentOf(secondPid)];
    first.kill('SIGKILL');
    second.kill('SIGKILL');
    await Promise.all([once(first, 'close'), once(second, 'close')]);
    const third = pool.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
    const [thirdPid] = (await once(third, 'spawn')) as [number];
    const thirdServer = parentOf(thirdPid);
    third.kill('SIGKILL');
    await once(third, 'close');

    expect(new Set(servers).size).toBe(2);
    expect(servers).not.toContain(process.pid);
    expect(servers).toContain(thirdServer);
  });

  it('runs its servers, and so every child, the nice steps asked for below this process', async () => {
    const lowered = new SpawnerPool(1, { niceIncrement: 7 });
    try {
      const child = lowered.spawn({ file: '/bin/sleep', args: ['30'], env: {} });
      const [pid] = (await once(child, 'spawn')) as [number];
      const niceness = nicenessOf(pid);
      child.kill('SIGKILL');
      await once(child, 'close');

      expect(niceness).toBe(Math.min(19, nicenessOf(process.pid) + 7));
    } finally {
      await lowered.close();
    }
  });

  it('refuses a pool without servers', () => {
    expect(() => new SpawnerPool(0)).toThrow(SpawnerPoolOptionsError);
  });
});
