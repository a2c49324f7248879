/**
 * Child process of `checkoutThenCrash`: opens the cache, checks out, prints the worktree path
 * and kills itself with SIGKILL, so no exit hook runs (no release, no lease clean-up).
 */
import { RepositoryCache } from '../../workers/repository-cache/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as {
  cacheDir: string;
  url: string;
  commit: string;
  jobId: string;
  lockStaleMs: number;
};
const cache = await RepositoryCache.open({
  cacheDir: options.cacheDir,
  lockStaleMs: options.lockStaleMs,
});
const checkout = await cache.checkout(options);
process.stdout.write(`${checkout.path}\n`, () => process.kill(process.pid, 'SIGKILL'));
