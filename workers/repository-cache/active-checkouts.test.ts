import { describe, expect, it } from 'vitest';
import { ActiveCheckouts } from './active-checkouts.js';

describe('ActiveCheckouts', () => {
  it('answers by job and repository, and lists what is out', () => {
    // Arrange
    const active = new ActiveCheckouts();
    const release = () => Promise.resolve();

    // Act
    active.set('/w/a-1', { key: 'repo-1', jobId: 'a', release });
    active.set('/w/b-1', { key: 'repo-2', jobId: 'b' });

    // Assert
    expect(active.hasJob('repo-1', 'a')).toBe(true);
    expect(active.hasJob('repo-2', 'a')).toBe(false);
    expect(active.releases()).toEqual([release]);
    expect(active.repositoryKeys()).toEqual(new Set(['repo-1', 'repo-2']));
  });

  it('waits for the return under way of a job checkout, even a failing one', async () => {
    // Arrange
    const active = new ActiveCheckouts();
    let fail: (error: Error) => void = () => undefined;
    const releasing = new Promise<void>((_, reject) => (fail = reject));
    active.set('/w/a-1', { key: 'repo-1', jobId: 'a', releasing });
    let waited = false;

    // Act
    const waiting = active.returnOf('repo-1', 'a').then(() => (waited = true));
    await Promise.resolve();
    const beforeTheReturn = waited;
    fail(new Error('worktree busy'));
    await waiting;

    // Assert
    expect(beforeTheReturn).toBe(false);
    expect(waited).toBe(true);
    await expect(active.returnOf('repo-1', 'other')).resolves.toBeUndefined();
  });
});
