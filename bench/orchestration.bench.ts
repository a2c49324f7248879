import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPipeline } from '../engine/embedded-pipeline.js';
import type { RunOutcome } from '../engine/run-outcome.js';
import { projectCue, repoCue, type PhaseSpec } from '../test/support/forge-repository.js';
import { createTestRepository } from '../test/support/git-repository.js';
import type { BenchContext, BenchSuite } from './harness.js';

/** Every step of the synthetic repositories sleeps this long. */
const STEP_SECONDS = 0.5;
const TARGET_RATIO = 1.15;
/**
 * Runs before the measured ones, which warm what a serving pipeline has warm: the repository
 * cache (the first run adds the worktrees, git restores them, and some are snapshotted only
 * during the second, so that later releases skip git), the CUE evaluator, and V8's optimizing
 * compiler, which is still compiling the workers' paths after the first hundred tasks. The
 * second run of 1 group x 100 projects still starts some 130 git processes to restore
 * worktrees, the last of them after it ended, during the next run; from the third, none. Their
 * ratios are printed beside the figure.
 */
const WARM_UP_RUNS = 3;
const MEASURED_RUNS = 5;

interface Shape {
  readonly label: string;
  readonly groups: number;
  readonly projects: number;
  readonly concurrency: number;
}

const SHAPES: readonly Shape[] = [
  { label: '3 groups x 8 projects', groups: 3, projects: 8, concurrency: 8 },
  { label: '1 group x 100 projects', groups: 1, projects: 100, concurrency: 25 },
];

/** A repository of `projects` projects, each with one sleeping step in each of `groups` phases. */
async function syntheticRepository(shape: Shape) {
  const phases: Record<string, PhaseSpec> = {};
  for (let group = 1; group <= shape.groups; group += 1) phases[`phase${group}`] = { group };
  const phaseBody = Object.keys(phases)
    .map((phase) => `\t${phase}: work: {action: "shell", run: "sleep ${STEP_SECONDS}"}`)
    .join('\n');
  const files: Record<string, string> = { '.forge/repo.cue': repoCue({ phases }) };
  for (let index = 0; index < shape.projects; index += 1) {
    const name = `project-${String(index).padStart(3, '0')}`;
    files[`${name}/.forge/project.cue`] = projectCue(name, `ci: phases: {\n${phaseBody}\n}`);
  }
  const repository = await createTestRepository(files);
  return { repository, commit: await repository.commit('synthetic') };
}

/** Sum over groups of ceil(tasks / concurrency) x the step's duration. */
function idealSeconds(shape: Shape): number {
  return shape.groups * Math.ceil(shape.projects / shape.concurrency) * STEP_SECONDS;
}

async function measureShape(context: BenchContext, shape: Shape): Promise<void> {
  const { repository, commit } = await syntheticRepository(shape);
  const dataDirectory = await mkdtemp(join(tmpdir(), 'forge-bench-orchestration-'));
  let groupsStartedAt = 0;
  const pipeline = await EmbeddedPipeline.start({
    dataDirectory,
    taskConcurrency: shape.concurrency,
    onEvent: (event) => {
      if (event.type === 'planned') groupsStartedAt = performance.now();
    },
  });
  try {
    const ideal = idealSeconds(shape);
    const ratios: number[] = [];
    const totals: number[] = [];
    for (let attempt = 0; attempt < WARM_UP_RUNS + MEASURED_RUNS; attempt += 1) {
      const runId = crypto.randomUUID();
      const started = performance.now();
      await pipeline.engine.submit({
        runId,
        repository: 'bench/synthetic',
        cloneUrl: repository.path,
        commit,
      });
      const outcome: RunOutcome = await pipeline.engine.outcome(runId);
      const ended = performance.now();
      if (outcome.status !== 'success') {
        throw new Error(`bench run ${runId} ended ${outcome.status}: ${outcome.failure?.message}`);
      }
      ratios.push((ended - groupsStartedAt) / 1000 / ideal);
      totals.push((ended - started) / 1000);
    }
    const warmUp = ratios.slice(0, WARM_UP_RUNS);
    const measured = ratios.slice(WARM_UP_RUNS);
    const median = [...measured].sort((a, b) => a - b)[Math.floor(measured.length / 2)] ?? NaN;
    context.note(
      `${shape.label}, concurrency ${shape.concurrency}: ideal ${ideal.toFixed(1)} s; ` +
        `ratios of the warm-up runs ${warmUp.map(formatRatio).join(', ')}, ` +
        `of the measured runs ${measured.map(formatRatio).join(', ')}; ` +
        `measured runs with discovery ${totals
          .slice(WARM_UP_RUNS)
          .map((total) => total.toFixed(2))
          .join(', ')} s`,
    );
    context.report({
      label: `${shape.label}: phase groups' wall time / ideal (median of ${MEASURED_RUNS})`,
      value: median,
      unit: 'x',
      target: `<= ${TARGET_RATIO}`,
      met: median <= TARGET_RATIO,
    });
  } finally {
    await pipeline.close();
    await rm(dataDirectory, { recursive: true, force: true });
    await repository.remove();
  }
}

function formatRatio(ratio: number): string {
  return ratio.toFixed(3);
}

/**
 * Orchestration overhead of the in-process engine with real worker pools: runs of synthetic
 * repositories whose steps each sleep 0.5 s, timed from the plan (discovery done) to the
 * run's end and divided by the ideal schedule. Discovery is excluded from the ratio (the
 * ideal has no discovery) and printed with each run's total.
 */
const suite: BenchSuite = {
  name: 'orchestration',
  async run(context) {
    for (const shape of SHAPES) await measureShape(context, shape);
  },
};

export default suite;
