import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitRunner } from './git-runner.js';

describe('GitRunner.tryRunInSequence', () => {
  const git = new GitRunner({ timeoutMs: 30_000 });
  const folders: string[] = [];

  afterEach(async () => {
    await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true })));
  });

  async function newRepository(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'forge-git-runner-'));
    folders.push(folder);
    await git.run(['init', '--quiet'], { cwd: folder });
    return folder;
  }

  it('runs the commands in order from one shell, arguments passed as they are', async () => {
    const folder = await newRepository();

    const outcome = await git.tryRunInSequence(
      [
        ['config', 'forge.note', 'it\'s $HOME; `true` "quoted"'],
        ['config', 'forge.note'],
      ],
      { cwd: folder },
    );

    expect(outcome).toEqual({ ok: true, stdout: 'it\'s $HOME; `true` "quoted"' });
  });

  it('stops at the first command that fails and names the sequence', async () => {
    const folder = await newRepository();

    const outcome = await git.tryRunInSequence(
      [
        ['rev-parse', '--verify', '--quiet', 'no-such-branch'],
        ['config', 'forge.reached', 'yes'],
      ],
      { cwd: folder },
    );
    const reached = await git.tryRun(['config', 'forge.reached'], { cwd: folder });

    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.error.message).toMatch(
      /^git rev-parse --verify --quiet no-such-branch && git config forge.reached yes exited with 1/,
    );
    expect(reached.ok).toBe(false);
  });

  it('stops every command of the sequence when it times out, the shell and the git under it', async () => {
    const folder = await newRepository();
    const slow = new GitRunner({ timeoutMs: 30_000, config: { 'alias.linger': '!sleep 60' } });

    const outcome = await slow.tryRunInSequence([['--version'], ['linger']], {
      cwd: folder,
      timeoutMs: 300,
    });

    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.error.message).toMatch(
      /^git --version && git linger was killed \(timeout\)/,
    );
  });

  it('runs background commands at a lower CPU priority', async () => {
    const folder = await newRepository();
    // Field 19 of /proc/<pid>/stat is the nice value, which `cut` inherits from the git above it.
    const reporting = new GitRunner({
      timeoutMs: 30_000,
      config: { 'alias.niceness': '!cut -d " " -f 19 /proc/self/stat' },
    });

    const background = await reporting.tryRunInSequence([['niceness']], {
      cwd: folder,
      background: true,
    });
    const foreground = await reporting.tryRunInSequence([['niceness']], { cwd: folder });

    expect(background.ok && foreground.ok).toBe(true);
    const [lower, normal] = [background, foreground].map((outcome) =>
      Number(outcome.ok ? outcome.stdout : NaN),
    );
    // Ten steps lower than this process's own priority (capped at the lowest, 19).
    expect(lower).toBe(Math.min(19, (normal ?? NaN) + 10));
  });
});
