import { describe, expect, it } from 'vitest';
import { CacheLayout, worktreeFolderName } from './cache-layout.js';

describe('CacheLayout', () => {
  const layout = new CacheLayout('/cache');

  it('names a repository folder with a readable slug and a hash of the URL', () => {
    const location = layout.locate('https://github.com/input-output-hk/catalyst-forge.git');

    expect(location.key).toMatch(/^input-output-hk-catalyst-forge-[0-9a-f]{12}$/);
    expect(location.bareDir).toBe(`/cache/repositories/${location.key}/repository.git`);
    expect(location.worktreesDir).toBe(`/cache/worktrees/${location.key}`);
  });

  it('gives URLs that slug alike distinct keys, and ignores credentials', () => {
    const plain = layout.locate('https://example.com/a/b-c');
    const similar = layout.locate('https://example.com/a-b/c');
    const withToken = layout.locate('https://x-access-token:secret@example.com/a/b-c');

    expect(plain.key).not.toBe(similar.key);
    expect(withToken.key).toBe(plain.key);
    expect(withToken.displayUrl).toBe('https://***@example.com/a/b-c');
    expect(withToken.remote).toContain('secret');
  });

  it('makes local paths absolute and keeps scp-like addresses as they are', () => {
    expect(layout.locate('relative/repo').remote).toBe(`${process.cwd()}/relative/repo`);
    expect(layout.locate('git@github.com:org/repo.git').remote).toBe('git@github.com:org/repo.git');
  });

  it('maps job ids to safe, distinct folder names', () => {
    const names = ['run/task/test/api', 'run-task-test-api', '../../etc', ''].map(
      worktreeFolderName,
    );

    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9._-]+$/);
    expect(names[2]).not.toContain('..');
  });
});
