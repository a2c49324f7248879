import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { WasmCueEvaluator } from '../adapters/cue/wasm-cue-evaluator.js';
import type {
  ConfigEvaluation,
  ConfigEvaluator,
  ConfigSource,
} from '../core/ports/config-evaluator.js';
import { projectCue } from '../test/support/forge-repository.js';
import { CachingConfigEvaluator } from './caching-config-evaluator.js';

/**
 * An in-memory {@link ConfigEvaluator} that records every call. A fake is right here: what is
 * under test is the cache's own bookkeeping (what it sends on, what it keeps), not CUE. A
 * source containing `invalid` fails; any other evaluates to its path and text.
 */
class CountingConfigEvaluator implements ConfigEvaluator {
  readonly calls: string[][] = [];
  closed = false;

  evaluate(sources: readonly ConfigSource[]): Promise<readonly ConfigEvaluation[]> {
    this.calls.push(sources.map(({ path }) => path));
    return Promise.resolve(
      sources.map(({ path, source }): ConfigEvaluation =>
        source.includes('invalid')
          ? { path, ok: false, problems: [{ message: 'invalid configuration', line: 1 }] }
          : { path, ok: true, value: { path, source } },
      ),
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function source(path: string, text = `package project\nname: "${path}"\n`): ConfigSource {
  return { path, source: text };
}

const directories: string[] = [];

async function cacheDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'forge-config-cache-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(
    directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
  );
});

describe('CachingConfigEvaluator', () => {
  it('answers a second evaluation of the same sources without calling the evaluator', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);
    const sources = [source('a/.forge/project.cue'), source('b/.forge/project.cue')];
    const first = await cache.evaluate(sources, 'project');

    const second = await cache.evaluate(sources, 'project');

    expect(second).toEqual(first);
    expect(inner.calls).toHaveLength(1);
    expect(cache.stats).toEqual({ hits: 2, misses: 2 });
  });

  it('sends only the misses to the evaluator, in one batch, and answers in the order asked', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);
    await cache.evaluate([source('b/p.cue')], 'project');

    const result = await cache.evaluate(
      [source('a/p.cue'), source('b/p.cue'), source('c/p.cue')],
      'project',
    );

    expect(inner.calls).toEqual([['b/p.cue'], ['a/p.cue', 'c/p.cue']]);
    expect(result.map(({ path }) => path)).toEqual(['a/p.cue', 'b/p.cue', 'c/p.cue']);
  });

  it('treats a changed source as a miss', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);
    await cache.evaluate([source('a/p.cue', 'package project\nname: "a"\n')], 'project');

    const [result] = await cache.evaluate(
      [source('a/p.cue', 'package project\nname: "renamed"\n')],
      'project',
    );

    expect(inner.calls).toEqual([['a/p.cue'], ['a/p.cue']]);
    expect(result).toEqual({
      path: 'a/p.cue',
      ok: true,
      value: { path: 'a/p.cue', source: 'package project\nname: "renamed"\n' },
    });
  });

  it('keeps the same text under another path or package apart', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);
    const text = 'package project\nname: "same"\n';
    await cache.evaluate([source('a/p.cue', text)], 'project');

    await cache.evaluate([source('b/p.cue', text)], 'project');
    await cache.evaluate([source('a/p.cue', text)], 'repo');

    expect(inner.calls).toEqual([['a/p.cue'], ['b/p.cue'], ['a/p.cue']]);
  });

  it('caches failures too', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);
    const broken = [source('a/p.cue', 'package project\ninvalid\n')];
    await cache.evaluate(broken, 'project');

    const [result] = await cache.evaluate(broken, 'project');

    expect(inner.calls).toHaveLength(1);
    expect(result).toEqual({
      path: 'a/p.cue',
      ok: false,
      problems: [{ message: 'invalid configuration', line: 1 }],
    });
  });

  it('lets another instance with the same directory hit without calling its evaluator', async () => {
    const directory = await cacheDirectory();
    const sources = [source('a/p.cue'), source('b/p.cue', 'package project\ninvalid\n')];
    const first = await new CachingConfigEvaluator(new CountingConfigEvaluator(), {
      directory,
    }).evaluate(sources, 'project');
    const otherProcessInner = new CountingConfigEvaluator();
    const otherProcess = new CachingConfigEvaluator(otherProcessInner, { directory });

    const result = await otherProcess.evaluate(sources, 'project');

    expect(result).toEqual(first);
    expect(otherProcessInner.calls).toEqual([]);
    expect(otherProcess.stats).toEqual({ hits: 2, misses: 0 });
  });

  it.each([
    ['truncated', '{"path":"a/p.cue","ok":tr'],
    ['empty', ''],
  ])('treats a %s disk entry as a miss and replaces it', async (_case, corrupt) => {
    const directory = await cacheDirectory();
    const sources = [source('a/p.cue')];
    await new CachingConfigEvaluator(new CountingConfigEvaluator(), { directory }).evaluate(
      sources,
      'project',
    );
    const [entry] = await readdir(directory);
    await writeFile(join(directory, entry as string), corrupt);
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner, { directory });

    const [result] = await cache.evaluate(sources, 'project');
    const [again] = await new CachingConfigEvaluator(new CountingConfigEvaluator(), {
      directory,
    }).evaluate(sources, 'project');

    expect(inner.calls).toEqual([['a/p.cue']]);
    expect(cache.stats).toEqual({ hits: 0, misses: 1 });
    expect(result).toMatchObject({ path: 'a/p.cue', ok: true });
    expect(again).toEqual(result);
  });

  it('stores concurrent evaluations of the same source on disk without failing', async () => {
    const directory = await cacheDirectory();
    const cache = new CachingConfigEvaluator(new CountingConfigEvaluator(), { directory });
    const sources = [source('a/p.cue', `package project\nname: "${'x'.repeat(200_000)}"\n`)];

    const results = await Promise.all([1, 2, 3].map(() => cache.evaluate(sources, 'project')));

    expect(results[1]).toEqual(results[0]);
    expect(await readdir(directory)).toHaveLength(1);
  });

  it('drops the least recently used evaluation beyond maxEntries', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner, { maxEntries: 2 });
    await cache.evaluate([source('a/p.cue'), source('b/p.cue')], 'project');
    await cache.evaluate([source('a/p.cue')], 'project');
    await cache.evaluate([source('c/p.cue')], 'project');
    inner.calls.length = 0;

    await cache.evaluate([source('a/p.cue'), source('c/p.cue')], 'project');
    await cache.evaluate([source('b/p.cue')], 'project');

    expect(inner.calls).toEqual([['b/p.cue']]);
  });

  it('counts hits and misses per source', async () => {
    const cache = new CachingConfigEvaluator(new CountingConfigEvaluator());
    await cache.evaluate([source('a/p.cue'), source('b/p.cue')], 'project');

    await cache.evaluate([source('a/p.cue'), source('b/p.cue'), source('c/p.cue')], 'project');

    expect(cache.stats).toEqual({ hits: 2, misses: 3 });
  });

  it('closes the evaluator it wraps', async () => {
    const inner = new CountingConfigEvaluator();
    const cache = new CachingConfigEvaluator(inner);

    await cache.close();

    expect(inner.closed).toBe(true);
  });
});

describe('CachingConfigEvaluator around the CUE evaluator', () => {
  const cue = new WasmCueEvaluator();

  afterAll(() => cue.close());

  it('evaluates with CUE once, then answers from the cache', async () => {
    const cueEvaluate = vi.spyOn(cue, 'evaluate');
    const cache = new CachingConfigEvaluator(cue);
    const sources = [
      { path: 'web/.forge/project.cue', source: projectCue('web') },
      { path: 'bad/.forge/project.cue', source: 'package project\nname: 1\nname: 2\n' },
    ];
    const first = await cache.evaluate(sources, 'project');

    const second = await cache.evaluate(sources, 'project');

    expect(first).toEqual([
      {
        path: 'web/.forge/project.cue',
        ok: true,
        value: {
          name: 'web',
          ci: { phases: { test: { unit: { action: 'shell', run: 'true' } } } },
        },
      },
      {
        path: 'bad/.forge/project.cue',
        ok: false,
        problems: [{ message: 'name: conflicting values 2 and 1', line: 2 }],
      },
    ]);
    expect(second).toEqual(first);
    expect(cueEvaluate).toHaveBeenCalledTimes(1);
    expect(cache.stats).toEqual({ hits: 2, misses: 2 });
  });
});
