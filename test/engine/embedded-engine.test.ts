import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobType } from '../../core/statuses.js';
import { parseJobId } from '../../core/contracts/jobs.js';
import { isRunning, waitUntil } from '../../workers/executors/testing/step-requests.js';
import { EmbeddedPipeline } from '../../engine/embedded-pipeline.js';
import type { EngineEvent, RunOutcome } from '../../engine/run-outcome.js';
import { projectCue, repoCue } from '../support/forge-repository.js';
import { git, useCommittedRepositories, type TestRepository } from '../support/git-repository.js';

/*
 * The in-process engine over the embedded job plane with real worker pools: real git
 * worktrees, real CUE, real step processes. Steps leave timestamped marker files, so the
 * order of execution is read from what the processes did, not from what the engine says.
 */

const createRepository = useCommittedRepositories();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A marker script: `mark.sh <folder> <name> <seconds> [exit]` writes start/end times and the pid. */
const MARK_SCRIPT = [
  'folder="$1"; name="$2"; seconds="$3"; code="${4:-0}"',
  'echo "start $(date +%s%N) $$" >> "$folder/$name"',
  'sleep "$seconds"',
  'echo "end $(date +%s%N)" >> "$folder/$name"',
  'exit "$code"',
  '',
].join('\n');

interface Marker {
  readonly start: number;
  readonly end?: number | undefined;
  readonly pid: number;
}

async function temporaryFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

async function startPipeline(
  events: EngineEvent[] = [],
  retainEndedRuns?: number,
): Promise<EmbeddedPipeline> {
  const pipeline = await EmbeddedPipeline.start({
    dataDirectory: await temporaryFolder('forge-engine-'),
    taskConcurrency: 4,
    onEvent: (event) => events.push(event),
    engine: { stopWaitMs: 10_000, ...(retainEndedRuns === undefined ? {} : { retainEndedRuns }) },
  });
  cleanups.push(() => pipeline.close());
  return pipeline;
}

/** A step that marks `name` in `markers` for `seconds`, then exits with `code`. */
function markStep(markers: string, step: string, name: string, seconds: number, code = 0): string {
  return `${step}: {action: "shell", run: "sh ../tools/mark.sh ${markers} ${name} ${seconds} ${code}"}`;
}

/** Projects `a` and `b`, phases `test` (group 1) and `build` (group 2), steps as given. */
async function repositoryWith(steps: {
  a: string[];
  b: string[];
}): Promise<{ repository: TestRepository; commit: string }> {
  const project = (name: string, lines: string[]) =>
    projectCue(name, ['ci: phases: {', ...lines.map((line) => `\t${line}`), '}'].join('\n'));
  const repository = await createRepository({
    '.forge/repo.cue': repoCue(),
    'tools/mark.sh': MARK_SCRIPT,
    'a/.forge/project.cue': project('a', steps.a),
    'b/.forge/project.cue': project('b', steps.b),
  });
  return { repository, commit: await git(repository.path, 'rev-parse', 'HEAD') };
}

async function readMarkers(folder: string): Promise<Record<string, Marker>> {
  const markers: Record<string, Marker> = {};
  for (const name of await readdir(folder)) {
    const lines = (await readFile(join(folder, name), 'utf8')).trim().split('\n');
    const [, start, pid] = (lines[0] ?? '').split(' ');
    const end = lines[1]?.split(' ')[1];
    markers[name] = {
      start: Number(start) / 1e6,
      end: end === undefined ? undefined : Number(end) / 1e6,
      pid: Number(pid),
    };
  }
  return markers;
}

async function run(
  pipeline: EmbeddedPipeline,
  repository: TestRepository,
  commit: string,
): Promise<{ runId: string; outcome: Promise<RunOutcome> }> {
  const runId = crypto.randomUUID();
  await pipeline.engine.submit({
    runId,
    repository: 'acme/monorepo',
    cloneUrl: repository.path,
    commit,
    branch: 'main',
  });
  return { runId, outcome: pipeline.engine.outcome(runId) };
}

describe('EmbeddedWorkflowEngine', () => {
  it('runs the phase groups one after another and the tasks of a group in parallel', async () => {
    // Arrange
    const markers = await temporaryFolder('forge-markers-');
    const { repository, commit } = await repositoryWith({
      a: [
        `test: {${markStep(markers, 'unit', 'test-a', 0.4)}}`,
        `build: {${markStep(markers, 'image', 'build-a', 0.1)}}`,
      ],
      b: [
        `test: {${markStep(markers, 'unit', 'test-b', 0.4)}}`,
        `build: {${markStep(markers, 'image', 'build-b', 0.1)}}`,
      ],
    });
    const pipeline = await startPipeline();

    // Act
    const { outcome } = await run(pipeline, repository, commit);
    const ended = await outcome;

    // Assert
    expect(ended.status).toBe('success');
    expect(ended.tasks.map(({ task, status }) => [task.phase, task.project, status])).toEqual([
      ['test', 'a', 'success'],
      ['test', 'b', 'success'],
      ['build', 'a', 'success'],
      ['build', 'b', 'success'],
    ]);
    const marked = await readMarkers(markers);
    const testEnd = Math.max(marked['test-a']?.end ?? Infinity, marked['test-b']?.end ?? Infinity);
    const buildStart = Math.min(marked['build-a']?.start ?? 0, marked['build-b']?.start ?? 0);
    expect(buildStart).toBeGreaterThan(testEnd);
    // Parallel: each test task started before the other one ended.
    expect(marked['test-a']?.start).toBeLessThan(marked['test-b']?.end ?? 0);
    expect(marked['test-b']?.start).toBeLessThan(marked['test-a']?.end ?? 0);
  });

  it('fails the run on a failing step in group 1, stops its slow sibling and never submits group 2', async () => {
    // Arrange
    const markers = await temporaryFolder('forge-markers-');
    const { repository, commit } = await repositoryWith({
      a: [
        `test: {${markStep(markers, 'unit', 'test-a', 0.3, 3)}}`,
        `build: {${markStep(markers, 'image', 'build-a', 0)}}`,
      ],
      b: [
        `test: {${markStep(markers, 'unit', 'test-b', 60)}}`,
        `build: {${markStep(markers, 'image', 'build-b', 0)}}`,
      ],
    });
    const pipeline = await startPipeline();

    // Act
    const started = Date.now();
    const { runId, outcome } = await run(pipeline, repository, commit);
    const ended = await outcome;
    const elapsedMs = Date.now() - started;

    // Assert
    expect(ended.status).toBe('failed');
    expect(ended.failure).toMatchObject({ phase: 'test', project: 'a', step: 'unit' });
    expect(ended.failure?.message).toContain('step unit of test/a failed');
    const statuses = Object.fromEntries(
      ended.tasks.map(({ task, status }) => [`${task.phase}/${task.project}`, status]),
    );
    expect(statuses).toEqual({
      'test/a': 'failed',
      'test/b': 'cancelled',
      'build/a': 'skipped',
      'build/b': 'skipped',
    });
    const submitted = await pipeline.plane.jobs.listByRun(runId);
    const taskPhases = submitted
      .map((record) => parseJobId(record.job_id))
      .flatMap((parts) => (parts?.type === JobType.task ? [parts.phase] : []));
    expect(taskPhases.sort()).toEqual(['test', 'test']);
    const marked = await readMarkers(markers);
    expect(Object.keys(marked).sort()).toEqual(['test-a', 'test-b']);
    expect(marked['test-b']?.end).toBeUndefined();
    expect(await isRunning(marked['test-b']?.pid ?? 0)).toBe(false);
    // The 60 s sibling was stopped, not waited for.
    expect(elapsedMs).toBeLessThan(30_000);
  });

  it('cancels a run in the middle: the running step is stopped and later groups are skipped', async () => {
    // Arrange
    const markers = await temporaryFolder('forge-markers-');
    const { repository, commit } = await repositoryWith({
      a: [
        `test: {${markStep(markers, 'unit', 'test-a', 60)}}`,
        `build: {${markStep(markers, 'image', 'build-a', 0)}}`,
      ],
      b: [`build: {${markStep(markers, 'image', 'build-b', 0)}}`],
    });
    const events: EngineEvent[] = [];
    const pipeline = await startPipeline(events);
    const { runId, outcome } = await run(pipeline, repository, commit);
    await waitUntil(
      async () => (await readdir(markers)).includes('test-a'),
      20_000,
      'the step to start',
    );

    // Act
    await pipeline.engine.cancel(runId);
    const ended = await outcome;

    // Assert
    expect(ended.status).toBe('cancelled');
    expect(
      ended.tasks.map(({ task, status }) => `${task.phase}/${task.project}:${status}`),
    ).toEqual(['test/a:cancelled', 'build/a:skipped', 'build/b:skipped']);
    const marked = await readMarkers(markers);
    expect(await isRunning(marked['test-a']?.pid ?? 0)).toBe(false);
    expect(events.map((event) => event.type)).toContain('run-ended');
    expect(events.filter((event) => event.type === 'group-started')).toHaveLength(1);
  });

  it("fails the run with discovery's reason when the configuration is broken", async () => {
    // Arrange
    const repository = await createRepository({
      '.forge/repo.cue': 'package repo\n\nforgeVersion: 1\n',
    });
    const commit = await git(repository.path, 'rev-parse', 'HEAD');
    const pipeline = await startPipeline();

    // Act
    const { outcome } = await run(pipeline, repository, commit);
    const ended = await outcome;

    // Assert
    expect(ended.status).toBe('failed');
    expect(ended.plan).toBeUndefined();
    expect(ended.failure?.message).toMatch(/^discovery did not complete: .+/);
  });

  it('returns the first submission when a run is submitted twice', async () => {
    // Arrange
    const { repository, commit } = await repositoryWith({
      a: ['test: {unit: {action: "shell", run: "true"}}'],
      b: ['test: {unit: {action: "shell", run: "true"}}'],
    });
    const pipeline = await startPipeline();
    const runId = crypto.randomUUID();
    const run = { runId, repository: 'acme/monorepo', cloneUrl: repository.path, commit };

    // Act
    const first = await pipeline.engine.submit(run);
    const second = await pipeline.engine.submit(run);
    const ended = await pipeline.engine.outcome(runId);

    // Assert
    expect(second).toEqual(first);
    expect(ended.status).toBe('success');
    const jobs = await pipeline.plane.jobs.listByRun(runId);
    expect(jobs.map((job) => job.job_id).sort()).toEqual([
      `${runId}/discovery`,
      `${runId}/task/test/a`,
      `${runId}/task/test/b`,
    ]);
  });

  it('forgets the oldest ended runs beyond the number it retains', async () => {
    // Arrange
    const { repository, commit } = await repositoryWith({
      a: ['test: {unit: {action: "shell", run: "true"}}'],
      b: ['test: {unit: {action: "shell", run: "true"}}'],
    });
    const pipeline = await startPipeline([], 1);

    // Act
    const older = await run(pipeline, repository, commit);
    await older.outcome;
    const newer = await run(pipeline, repository, commit);
    await newer.outcome;

    // Assert
    await expect(pipeline.engine.outcome(older.runId)).rejects.toThrow(/no run .+ was submitted/);
    await expect(pipeline.engine.outcome(newer.runId)).resolves.toMatchObject({
      status: 'success',
    });
  });
});
