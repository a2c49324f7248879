/**
 * The repository cache against what a worker without it would pay. A generated repository
 * (5,000 files, 2,000 commits, made with `git fast-import`) is served over git's `file://`
 * transport; we time a plain `git clone`, the cold first checkout through the cache (bare clone
 * plus worktree), warm checkouts (cache already cloned; checkout plus release) of commits apart,
 * and warm checkouts of the commit a parked worktree is already at (a run's jobs share one).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gitTestEnv } from '../test/support/git-repository.js';
import { RepositoryCache, type RepositoryCacheEvent } from '../workers/repository-cache/index.js';
import { median, timeRuns, type BenchSuite } from './harness.js';

const execFileAsync = promisify(execFile);
const FILE_COUNT = 5000;
const COMMIT_COUNT = 2000;
const FILES_CHANGED_PER_COMMIT = 3;
const LINES_PER_FILE = 24;
const COLD_RUNS = 3;
const IDLE_CLONE_RUNS = 3;
const WARM_RUNS = 10;
const COMMIT_STRIDE = 10;
const TARGET_RATIO = 5;

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: gitTestEnv,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** A deterministic pseudo-random generator (mulberry32), so every run builds the same repository. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the `git fast-import` stream of the whole history in memory (about 12 MB). */
function fastImportStream(): Buffer {
  const next = random(42);
  const line = (file: number) =>
    `export const value${Math.floor(next() * 1e9)} = ${JSON.stringify(`file ${file} ${next().toString(36)}`)};\n`;
  const files = Array.from({ length: FILE_COUNT }, (_, file) =>
    Array.from({ length: LINES_PER_FILE }, () => line(file)),
  );
  const pathOf = (file: number) =>
    `projects/project-${String(file % 50).padStart(2, '0')}/src/module-${String(file).padStart(4, '0')}.ts`;
  const chunks: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const modify = (file: number) =>
    `M 100644 inline ${pathOf(file)}\n${data(files[file]!.join(''))}`;
  for (let commit = 1; commit <= COMMIT_COUNT; commit += 1) {
    const when = 1_700_000_000 + commit * 60;
    chunks.push(
      `commit refs/heads/main\nmark :${commit}\n`,
      `committer Forge Bench <bench@example.invalid> ${when} +0000\n`,
      data(`commit ${commit}\n`),
      commit === 1 ? '' : `from :${commit - 1}\n`,
    );
    if (commit === 1) {
      for (let file = 0; file < FILE_COUNT; file += 1) chunks.push(modify(file));
      continue;
    }
    for (let change = 0; change < FILES_CHANGED_PER_COMMIT; change += 1) {
      const file = Math.floor(next() * FILE_COUNT);
      files[file]![Math.floor(next() * LINES_PER_FILE)] = line(file);
      chunks.push(modify(file));
    }
  }
  return Buffer.from(chunks.join(''));
}

async function fastImport(bareDir: string, stream: Buffer): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet'], {
    cwd: bareDir,
    env: gitTestEnv,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(stream);
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
}

async function generateRepository(root: string): Promise<{ url: string; commits: string[] }> {
  const bareDir = join(root, 'source.git');
  await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bareDir);
  await fastImport(bareDir, fastImportStream());
  await git(bareDir, 'repack', '-a', '-d', '-q');
  const commits = (await git(bareDir, 'rev-list', 'main')).split('\n');
  return { url: pathToFileURL(bareDir).href, commits };
}

const suite: BenchSuite = {
  name: 'repository-cache',
  async run(context) {
    const root = await mkdtemp(join(tmpdir(), 'forge-bench-cache-'));
    try {
      const generationStarted = performance.now();
      const { url, commits } = await generateRepository(root);
      const packSize = await git(join(root, 'source.git'), 'count-objects', '-vH');
      context.note(
        `generated ${FILE_COUNT} files, ${commits.length} commits in ` +
          `${Math.round(performance.now() - generationStarted)} ms ` +
          `(${/size-pack: (.*)/.exec(packSize)?.[1] ?? '?'} packed)`,
      );

      const idleCloneTimes = await timeRuns(IDLE_CLONE_RUNS, async () => {
        await git(root, 'clone', '--quiet', url, join(root, `idle-clone-${randomUUID()}`));
      });

      const coldTimes: number[] = [];
      for (let run = 0; run < COLD_RUNS; run += 1) {
        const cache = await RepositoryCache.open({ cacheDir: join(root, `cold-cache-${run}`) });
        const started = performance.now();
        const checkout = await cache.checkout({ url, commit: commits[0]!, jobId: `cold/${run}` });
        coldTimes.push(performance.now() - started);
        await checkout.release();
        await cache.close();
      }

      // Rounds interleave plain clones (each deleted afterwards, as a worker would) with the warm
      // checkouts, so that all meet the same file-system state: on ext4 mounted with online
      // discard, as here, creating files is several times slower for a while after a mass
      // deletion, which every release of a fresh worktree is.
      const fresh = await WarmCache.open(url, commits[0]!, join(root, 'fresh-cache'), 0);
      const pooled = await WarmCache.open(url, commits[0]!, join(root, 'pooled-cache'), 2);
      const cloneTimes: number[] = [];
      for (let round = 1; round <= WARM_RUNS; round += 1) {
        if (round % 2 === 1) {
          const target = join(root, `plain-clone-${round}`);
          const started = performance.now();
          await git(root, 'clone', '--quiet', url, target);
          cloneTimes.push(performance.now() - started);
          await rm(target, { recursive: true, force: true });
        }
        const commit = commits[(round * COMMIT_STRIDE) % commits.length]!;
        await fresh.checkoutAndRelease(commit, round);
        await pooled.checkoutAndRelease(commit, round);
      }
      context.note(
        `warm checkouts: commits ${COMMIT_STRIDE} apart (about ` +
          `${COMMIT_STRIDE * FILES_CHANGED_PER_COMMIT} changed files between successive ones)`,
      );

      context.report({
        label: `plain git clone over file://, measured first (median of ${IDLE_CLONE_RUNS})`,
        value: median(idleCloneTimes),
        unit: 'ms',
      });
      context.report({
        label: `plain git clone over file://, between the checkouts (median of ${cloneTimes.length})`,
        value: median(cloneTimes),
        unit: 'ms',
      });
      // The speed-ups are against the faster of the two clone figures: the conservative one.
      const cloneMs = Math.min(median(idleCloneTimes), median(cloneTimes));
      context.report({
        label: `cold first checkout through the cache: bare clone + worktree (median of ${COLD_RUNS})`,
        value: median(coldTimes),
        unit: 'ms',
      });
      for (const [mode, warm] of [
        ['fresh worktree per job (default)', fresh],
        ['recycled worktree (worktreePoolSize: 2)', pooled],
      ] as const) {
        context.note(`${mode}: ${warm.summary()}`);
        context.report({
          label: `warm checkout + release, ${mode} (median of ${WARM_RUNS})`,
          value: median(warm.times),
          unit: 'ms',
        });
        context.report({
          label: `speed-up over a plain clone, ${mode}`,
          value: cloneMs / median(warm.times),
          unit: 'x',
          target: `>= ${TARGET_RATIO} x`,
          met: cloneMs / median(warm.times) >= TARGET_RATIO,
        });
        context.report({
          label: `repository lock held per checkout, ${mode} (median)`,
          value: median(warm.checkouts.map((event) => event.lockHeldMs)),
          unit: 'ms',
        });
        context.report({
          label: `files written outside the lock per checkout, ${mode} (median)`,
          value: median(warm.checkouts.map((event) => event.populateMs)),
          unit: 'ms',
        });
      }
      // The common case of a pipeline run: its jobs all check out the run's one commit.
      const sameCommit = await WarmCache.open(url, commits[0]!, join(root, 'same-cache'), 2);
      for (let round = 1; round <= WARM_RUNS; round += 1) {
        await sameCommit.checkoutAndRelease(commits[0]!, round);
      }
      context.note(`recycled worktree at the same commit: ${sameCommit.summary()}`);
      context.report({
        label: `warm checkout + release of the commit a parked worktree is at (median of ${WARM_RUNS})`,
        value: median(sameCommit.times),
        unit: 'ms',
      });
      context.report({
        label: 'checkout alone of the commit a parked worktree is at (median)',
        value: median(sameCommit.checkouts.map((event) => event.totalMs)),
        unit: 'ms',
      });
      await sameCommit.cache.close();
      const cache = pooled.cache;
      const source = join(root, 'source.git');
      const fetchTimes = await timeRuns(3, async () => {
        const tip = await git(source, 'rev-parse', 'main');
        const pushed = await git(source, 'commit-tree', `${tip}^{tree}`, '-p', tip, '-m', 'pushed');
        await git(source, 'update-ref', 'refs/heads/main', pushed);
        await (await cache.checkout({ url, commit: pushed, jobId: `fetch/${pushed}` })).release();
      });
      context.report({
        label:
          'checkout of a newly pushed commit, recycled worktree (fetch + checkout + release, median of 3)',
        value: median(fetchTimes),
        unit: 'ms',
      });
      await cache.close();
      await fresh.cache.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};

/** A primed cache whose checkouts (checkout plus release) are timed one by one. */
class WarmCache {
  readonly times: number[] = [];

  private constructor(
    readonly cache: RepositoryCache,
    readonly checkouts: Extract<RepositoryCacheEvent, { type: 'checkout' }>[],
    private readonly url: string,
  ) {}

  static async open(
    url: string,
    primeCommit: string,
    cacheDir: string,
    worktreePoolSize: number,
  ): Promise<WarmCache> {
    const checkouts: Extract<RepositoryCacheEvent, { type: 'checkout' }>[] = [];
    const cache = await RepositoryCache.open({
      cacheDir,
      worktreePoolSize,
      onEvent: (event) => {
        if (event.type === 'checkout') checkouts.push(event);
      },
    });
    await (await cache.checkout({ url, commit: primeCommit, jobId: 'warm/prime' })).release();
    checkouts.length = 0;
    return new WarmCache(cache, checkouts, url);
  }

  async checkoutAndRelease(commit: string, round: number): Promise<void> {
    const started = performance.now();
    const checkout = await this.cache.checkout({
      url: this.url,
      commit,
      jobId: `run-${round}/task/build/app`,
    });
    await checkout.release();
    this.times.push(performance.now() - started);
  }

  summary(): string {
    const stats = this.cache.stats();
    const recycled = this.checkouts.filter((event) => event.recycled).length;
    const ready = this.checkouts.filter((event) => event.alreadyAtCommit).length;
    return `${stats.hits} hits, ${stats.fetches} fetches, ${stats.clones} clone, ${recycled} recycled worktrees (${ready} already at the commit)`;
  }
}

export default suite;
