import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WasmCueEvaluator } from '../../adapters/cue/wasm-cue-evaluator.js';
import { CachingConfigEvaluator } from '../../discovery/caching-config-evaluator.js';
import { loadForgeEnvironment } from '../../config/forge-environment.js';
import { discoverRepository } from '../../discovery/discover-repository.js';
import { UsageError } from '../run-cli.js';
import { currentBranch, resolveCommit } from './local-git.js';

const execFileAsync = promisify(execFile);

/** The flags of `forge-pipeline discover`. */
export interface DiscoverFlags {
  branch?: string;
  tag?: string;
  commit?: string;
  cacheDir?: string;
}

/**
 * What `forge-pipeline discover <path>` does: prints the discovery output of a repository as
 * JSON. With `--commit`, discovers that commit of the git repository at `path` (from a
 * temporary export of it, leaving the repository untouched); otherwise the folder as it is on
 * disk, with its current branch for release triggers unless `--branch` names another.
 */
export async function printDiscovery(path: string, flags: DiscoverFlags): Promise<void> {
  const environment = loadForgeEnvironment();
  const evaluator = new CachingConfigEvaluator(new WasmCueEvaluator(), {
    directory: flags.cacheDir ?? environment.FORGE_CONFIG_CACHE_DIR,
  });
  const checkout = flags.commit ? await exportCommit(path, flags.commit) : undefined;
  try {
    const branch = flags.branch ?? (flags.commit ? undefined : await currentBranch(path));
    const output = await discoverRepository(checkout ?? resolve(path), {
      evaluator,
      trigger: { branch, tag: flags.tag },
    });
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  } finally {
    await evaluator.close();
    if (checkout) await rm(checkout, { recursive: true, force: true });
  }
}

/** Writes the tree of `commit` into a temporary folder with `git archive`. */
async function exportCommit(repository: string, commit: string): Promise<string> {
  const notACommit = () =>
    new UsageError(`--commit ${commit}: not a commit of a git repository at ${repository}`);
  const sha = await resolveCommit(repository, commit);
  if (sha === undefined) throw notACommit();
  const folder = await mkdtemp(join(tmpdir(), 'forge-discover-'));
  try {
    await execFileAsync('sh', [
      '-c',
      'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"',
      'export',
      repository,
      sha,
      folder,
    ]);
    return folder;
  } catch {
    await rm(folder, { recursive: true, force: true });
    throw notACommit();
  }
}
