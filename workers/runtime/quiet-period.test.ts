import { describe, expect, it } from 'vitest';
import { QuietPeriod } from './quiet-period.js';

/** Resolves after `ms` of real time. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks whether a promise has settled. */
function watch(promise: Promise<void>): { readonly done: () => boolean } {
  let settled = false;
  void promise.then(() => (settled = true));
  return { done: () => settled };
}

describe('QuietPeriod', () => {
  it('ends a wait at once when there was no activity', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 60_000, maxWaitMs: 60_000 });

    // Act and Assert: it would otherwise hang past the test's timeout.
    await quiet.wait();
  });

  it('holds a wait while activity goes on, and ends it once activity stops', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 300, maxWaitMs: 60_000 });
    quiet.markActivity();
    const waiting = watch(quiet.wait());

    // Act: activity every 10 ms for 100 ms, far less than the quiet time apart.
    const doneDuringActivity: boolean[] = [];
    for (let beat = 0; beat < 10; beat += 1) {
      await sleep(10);
      quiet.markActivity();
      doneDuringActivity.push(waiting.done());
    }
    await expect.poll(() => waiting.done(), { timeout: 5_000 }).toBe(true);

    // Assert
    expect(doneDuringActivity).toEqual(Array.from({ length: 10 }, () => false));
  });

  it('ends a wait after maxWaitMs even while activity goes on', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 60_000, maxWaitMs: 50 });
    quiet.markActivity();
    const waiting = watch(quiet.wait());

    // Act
    for (let beat = 0; beat < 500 && !waiting.done(); beat += 1) {
      await sleep(10);
      quiet.markActivity();
    }

    // Assert
    expect(waiting.done()).toBe(true);
  });

  it('ends every wait at once when ended, and those begun afterwards too', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 60_000, maxWaitMs: 60_000 });
    quiet.markActivity();
    const first = watch(quiet.wait());
    const second = watch(quiet.wait());
    await sleep(20);
    const doneBeforeEnd = first.done() || second.done();

    // Act
    quiet.end();
    quiet.markActivity();

    // Assert
    await expect.poll(() => first.done() && second.done()).toBe(true);
    await quiet.wait();
    expect(doneBeforeEnd).toBe(false);
  });

  it('ends the waits under way when released, and holds later ones as before', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 60_000, maxWaitMs: 60_000 });
    quiet.markActivity();
    const first = watch(quiet.wait());
    await sleep(20);
    const doneBeforeRelease = first.done();

    // Act
    quiet.releaseWaiting();
    const later = watch(quiet.wait());

    // Assert
    await expect.poll(() => first.done()).toBe(true);
    await sleep(20);
    expect(doneBeforeRelease).toBe(false);
    expect(later.done()).toBe(false);
    quiet.end();
    await expect.poll(() => later.done()).toBe(true);
  });

  it('never holds a wait when the quiet time is 0', async () => {
    // Arrange
    const quiet = new QuietPeriod({ quietMs: 0, maxWaitMs: 60_000 });

    // Act
    quiet.markActivity();

    // Assert
    await quiet.wait();
  });
});
