import { DiscoveryError } from '../../core/discovery/discovery-errors.js';
import { discoveryResultKey } from '../../core/job-plane/blob-keys.js';
import { errorMessage } from '../../core/errors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { ConfigEvaluator } from '../../core/ports/config-evaluator.js';
import { discoverRepository } from '../../discovery/discover-repository.js';
import type { CheckoutRequest, RepositoryCheckout } from '../repository-cache/index.js';
import type { JobHandler } from '../runtime/job-handler.js';

export interface DiscoveryJobHandlerOptions {
  /** Worktrees of the job's commit (the repository cache). */
  readonly repositories: { checkout(request: CheckoutRequest): Promise<RepositoryCheckout> };
  /** The CUE evaluator, cached across jobs. */
  readonly evaluator: ConfigEvaluator;
  /** Where `<run>/discovery.json` goes. */
  readonly results: BlobStore;
}

/**
 * Runs discovery jobs: a worktree of the commit, discovery, and the output at
 * `<run>/discovery.json`. A repository that cannot be discovered (no `.forge/repo.cue`, a bad
 * configuration, over a limit) fails the job, and the same key then holds `{ "error": ... }`
 * saying why, so the dispatcher and the run's page can show it.
 */
export function createDiscoveryJobHandler(options: DiscoveryJobHandlerOptions): JobHandler {
  return async (message, context) => {
    if (message.type !== 'discovery') {
      return { status: 'failed', error: `a discovery worker cannot run ${message.type} jobs` };
    }
    const key = discoveryResultKey(message.run_id);
    const checkout = await options.repositories.checkout({
      url: message.repository.clone_url,
      commit: message.commit_sha,
      jobId: message.job_id,
      signal: context.signal,
    });
    try {
      const output = await discoverRepository(checkout.path, {
        evaluator: options.evaluator,
        trigger: { branch: message.branch, tag: message.tag },
      });
      await options.results.put(key, JSON.stringify(output), { contentType: 'application/json' });
      return { status: 'completed', resultLocation: options.results.locationOf(key) };
    } catch (error) {
      if (!(error instanceof DiscoveryError)) throw error;
      const reason = errorMessage(error);
      await options.results.put(
        key,
        JSON.stringify({ error: { type: error.name, message: reason } }),
        {
          contentType: 'application/json',
        },
      );
      return { status: 'failed', error: reason, resultLocation: options.results.locationOf(key) };
    } finally {
      // The worktree goes back to the cache once the outcome is recorded.
      context.afterOutcome(() => checkout.release());
    }
  };
}
