import { readFile, readdir } from 'node:fs/promises';

/** How long a stopped process group gets between SIGTERM and SIGKILL, by default. */
export const DEFAULT_KILL_GRACE_MS = 1000;

/** How often a stopping process group is checked for remaining members. */
const GROUP_POLL_MS = 25;

/**
 * Stops every process of the group `pgid`: SIGTERM, then SIGKILL after `graceMs` unless the group
 * is gone first. Resolves when no live member is left or SIGKILL has been sent.
 *
 * A member that has exited but was not reaped yet (a zombie: an orphan whose new parent, PID 1,
 * reaps late or never, as Node does when it is PID 1) still makes `kill(-pgid, 0)` succeed; on
 * Linux `/proc` is consulted so zombies do not hold the stop up for the whole grace.
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const killAt = performance.now() + graceMs;
  while (performance.now() < killAt) {
    await delay(GROUP_POLL_MS);
    if (!(await hasLiveMembers(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
  await delay(GROUP_POLL_MS);
}

/** Sends `signal` to a process group; false when no process of the group is left to signal. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: nobody left. EPERM: the members left are not ours to signal; nothing more to do.
    return false;
  }
}

/** Whether the group has a member that is still running (zombies excluded where visible). */
async function hasLiveMembers(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    return await hasRunningMemberInProc(pgid);
  } catch {
    return true;
  }
}

/** Scans `/proc/<pid>/stat` for a member of `pgid` that is not a zombie. */
async function hasRunningMemberInProc(pgid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Format: pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
