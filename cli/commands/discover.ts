import { Command } from 'commander';
import type { DiscoverFlags } from './print-discovery.js';

/**
 * `forge-pipeline discover <path>`: prints the discovery output of a repository as JSON.
 * With `--commit`, discovers that commit of the git repository at `path` (from a temporary
 * export of it, leaving the repository untouched); otherwise the folder as it is on disk, with
 * its current branch for release triggers unless `--branch` names another. The discovery
 * (CUE evaluator, tree walk) is loaded only when the command runs.
 */
export function discoverCommand(): Command {
  return new Command('discover')
    .description('print the discovery output of a repository as JSON')
    .argument('<path>', 'the repository folder')
    .option('--branch <name>', 'branch the run is for (release triggers)')
    .option('--tag <tag>', 'tag the run is for (release triggers)')
    .option('--commit <sha>', 'discover this commit of the git repository at <path>')
    .option(
      '--cache-dir <folder>',
      'keep evaluated configurations here across runs (env FORGE_CONFIG_CACHE_DIR)',
    )
    .action(async (path: string, flags: DiscoverFlags) => {
      const { printDiscovery } = await import('./print-discovery.js');
      await printDiscovery(path, flags);
    });
}
