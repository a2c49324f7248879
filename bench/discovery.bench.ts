import { WasmCueEvaluator } from '../adapters/cue/wasm-cue-evaluator.js';
import { CachingConfigEvaluator } from '../discovery/caching-config-evaluator.js';
import { discoverRepository } from '../discovery/discover-repository.js';
import { createTestRepository } from '../test/support/git-repository.js';
import { projectCue, repoCue } from '../test/support/forge-repository.js';
import { median, timeRuns, type BenchSuite } from './harness.js';

const PROJECTS = 100;
const SOURCE_FILES_PER_PROJECT = 20;
const COLD_TARGET_MS = 3000;
const WARM_TARGET_MS = 200;

/** A project with three phases and a release trigger, as a real service might have. */
function serviceProject(index: number): string {
  return projectCue(
    `service-${index}`,
    `ci: phases: {
	lint: check: {action: "earthly", target: "+lint", args: ["--strict"]}
	test: {
		unit: {action: "earthly", target: "+test", priority: 10}
		integration: {action: "shell", run: "make integration", timeout: @repo(path="phases.test.timeout")}
	}
	build: image: {action: "earthly", target: "+image", secrets: [{provider: "aws", path: "ci/registry", env: "REGISTRY_TOKEN"}]}
}
release: on: [{branch: "main"}, {tag: true}]
deployment: {enabled: true, image: @artifact("service-${index}.publishers.ecr.uri")}`,
  );
}

const suite: BenchSuite = {
  name: 'discovery',
  async run(context) {
    const files: Record<string, string> = {
      '.forge/repo.cue': repoCue({
        phases: {
          lint: { group: 1, timeout: '5m' },
          test: { group: 1, timeout: '20m' },
          build: { group: 2, timeout: '30m' },
        },
      }),
      '.gitignore': 'node_modules/\ndist/\n',
    };
    for (let index = 0; index < PROJECTS; index += 1) {
      const folder = `services/service-${String(index).padStart(3, '0')}`;
      files[`${folder}/.forge/project.cue`] = serviceProject(index);
      for (let file = 0; file < SOURCE_FILES_PER_PROJECT; file += 1) {
        files[`${folder}/src/module-${file}.ts`] = `export const value${file} = ${file};\n`;
      }
    }
    const repository = await createTestRepository(files);
    await repository.commit('generated');
    context.note(`generated repository: ${PROJECTS} projects, ${Object.keys(files).length} files`);
    const trigger = { branch: 'main' };

    try {
      // Cold: a new evaluator process and an empty cache, as a freshly started discovery pod.
      const cold = await timeRuns(3, async () => {
        const evaluator = new CachingConfigEvaluator(new WasmCueEvaluator());
        try {
          const output = await discoverRepository(repository.path, { evaluator, trigger });
          if (output.projects.length !== PROJECTS) throw new Error('discovery lost projects');
        } finally {
          await evaluator.close();
        }
      });
      const coldMs = median(cold);
      context.report({
        label: `cold: new CUE process, empty cache (${PROJECTS} projects, median of 3)`,
        value: coldMs,
        unit: 'ms',
        target: `<= ${COLD_TARGET_MS} ms`,
        met: coldMs <= COLD_TARGET_MS,
      });

      const wasm = new WasmCueEvaluator();
      try {
        // Cold cache in a hot worker: the CUE process already runs, the cache is empty.
        await discoverRepository(repository.path, { evaluator: wasm, trigger });
        const coldCache = await timeRuns(3, () =>
          discoverRepository(repository.path, {
            evaluator: new CachingConfigEvaluator(wasm),
            trigger,
          }),
        );
        context.report({
          label: 'cold cache in a running worker (median of 3)',
          value: median(coldCache),
          unit: 'ms',
        });

        const cached = new CachingConfigEvaluator(wasm);
        await discoverRepository(repository.path, { evaluator: cached, trigger });
        const warm = await timeRuns(10, () =>
          discoverRepository(repository.path, { evaluator: cached, trigger }),
        );
        const warmMs = median(warm);
        context.report({
          label: 'warm cache (median of 10)',
          value: warmMs,
          unit: 'ms',
          target: `<= ${WARM_TARGET_MS} ms`,
          met: warmMs <= WARM_TARGET_MS,
        });
        context.note(`warm cache: ${cached.stats.hits} hits, ${cached.stats.misses} misses`);
      } finally {
        await wasm.close();
      }
    } finally {
      await repository.remove();
    }
  },
};

export default suite;
