import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DISPATCHER_COMMAND } from '../../core/workflow/dispatcher-templates.js';
import { HEALTH_PORT } from '../../deploy/kubernetes/worker-pools.js';
import { projectRoot } from '../support/run-command.js';
import { effectiveInstructions, parseDockerfile, type DockerInstruction } from './dockerfile.js';

const execFileAsync = promisify(execFile);

const dockerfile = parseDockerfile(
  await readFile(new URL('../../deploy/docker/Dockerfile', import.meta.url), 'utf8'),
);
const dockerignore = (await readFile(new URL('../../.dockerignore', import.meta.url), 'utf8'))
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

const runs = (instructions: readonly DockerInstruction[]) =>
  instructions.filter((instruction) => instruction.keyword === 'RUN').map(({ args }) => args);
const last = (instructions: readonly DockerInstruction[], keyword: string) =>
  instructions.filter((instruction) => instruction.keyword === keyword).at(-1)?.args;

describe('deploy/docker/Dockerfile (parsed: no Docker engine here)', () => {
  it('builds in stages from a Node 22 image pinned to a release', () => {
    // Arrange, Act
    const names = dockerfile.map((stage) => stage.name);
    const images = dockerfile.map((stage) => stage.base).filter((base) => !names.includes(base));

    // Assert
    expect(names).toEqual(['build', 'production-dependencies', 'runtime', 'dispatcher', 'worker']);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^node:22\.\d+\.\d+-[a-z]+-slim$/);
  });

  it('compiles with every dependency, but ships only production ones installed in a clean stage', () => {
    // Arrange
    const stage = (name: string) => dockerfile.find((candidate) => candidate.name === name);

    // Act
    const buildRuns = runs(stage('build')?.instructions ?? []);
    const dependencyRuns = runs(stage('production-dependencies')?.instructions ?? []);
    const copies = (stage('runtime')?.instructions ?? [])
      .filter((instruction) => instruction.keyword === 'COPY')
      .map(({ args }) => args);

    // Assert
    expect(buildRuns.some((run) => /^npm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(
      true,
    );
    expect(buildRuns).toContain('npm run build');
    expect(dependencyRuns.some((run) => run.startsWith('npm ci --omit=dev'))).toBe(true);
    expect(copies).toContainEqual(
      expect.stringMatching(/^--from=production-dependencies .*\/app\/node_modules /),
    );
    expect(copies).toContainEqual(expect.stringMatching(/^--from=build .*\/app\/dist /));
    expect(
      copies.some((copy) => copy.includes('--from=build') && copy.includes('node_modules')),
    ).toBe(false);
  });

  it('runs both images as a non-root user under tini, which passes SIGTERM on to Node', () => {
    for (const target of ['dispatcher', 'worker']) {
      // Arrange
      const instructions = effectiveInstructions(dockerfile, target);

      // Act
      const user = last(instructions, 'USER') ?? 'root';
      const entrypoint = JSON.parse(last(instructions, 'ENTRYPOINT') ?? '[]') as string[];

      // Assert
      expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
      expect(entrypoint.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
      expect(entrypoint.slice(2)).toEqual(['node', `/app/bin/forge-${target}.js`]);
      expect(runs(instructions).some((run) => /apt-get install .*\btini\b/.test(run))).toBe(true);
    }
  });

  it('puts the command the rendered Workflows run on the PATH of the dispatcher image', () => {
    // Arrange
    const dispatcher = effectiveInstructions(dockerfile, 'dispatcher');

    // Act
    const links = runs(dispatcher).flatMap((run) =>
      [...run.matchAll(/ln -s (\S+) \/usr\/local\/bin\/(\S+)/g)].map((match) => [
        match[2],
        match[1],
      ]),
    );

    // Assert
    expect(Object.fromEntries(links)).toMatchObject({
      [DISPATCHER_COMMAND]: '/app/bin/forge-dispatcher.js',
    });
    expect(runs(dispatcher).some((run) => run.includes('chmod 0755 /app/bin/*.js'))).toBe(true);
  });

  it('gives the worker git and a HEALTHCHECK on its health port; no CUE binary is needed', () => {
    // Arrange
    const worker = effectiveInstructions(dockerfile, 'worker');

    // Act
    const healthcheck = last(worker, 'HEALTHCHECK') ?? '';
    const environment = worker
      .filter((instruction) => instruction.keyword === 'ENV')
      .map(({ args }) => args)
      .join(' ');

    // Assert
    expect(runs(worker).some((run) => /apt-get install .*\bgit\b/.test(run))).toBe(true);
    expect(healthcheck).toMatch(/\/healthz/);
    expect(environment).toContain(`FORGE_HEALTH_PORT=${HEALTH_PORT}`);
    expect(environment).toContain('FORGE_HEALTH_HOST=0.0.0.0');
    expect(runs(worker).some((run) => /\bcue\b/.test(run))).toBe(false);
  });

  it('keeps local state, dependencies and secrets out of the build context', () => {
    // Arrange, Act, Assert
    expect(dockerignore).toEqual(
      expect.arrayContaining(['**/node_modules', 'dist', '.git', '.env*', '.forge-data']),
    );
  });
});

describe('the worker HEALTHCHECK command', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** Runs the HEALTHCHECK's exec-form command against a server on 127.0.0.1. */
  async function healthcheckAgainst(status: number): Promise<number> {
    server = createServer((request, response) => {
      response.statusCode = request.url === '/healthz' ? status : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const healthcheck = last(effectiveInstructions(dockerfile, 'worker'), 'HEALTHCHECK') ?? '';
    const [command, ...args] = JSON.parse(healthcheck.slice(healthcheck.indexOf('['))) as string[];
    try {
      await execFileAsync(command === 'node' ? process.execPath : (command as string), args, {
        cwd: projectRoot,
        env: { ...process.env, FORGE_HEALTH_PORT: String(port) },
        timeout: 10_000,
      });
      return 0;
    } catch (error) {
      return (error as { code?: number }).code ?? -1;
    }
  }

  it('passes while /healthz answers 200 and fails when it answers 503', async () => {
    // Arrange, Act
    const healthy = await healthcheckAgainst(200);
    await new Promise((resolve) => server?.close(resolve));
    const unhealthy = await healthcheckAgainst(503);

    // Assert
    expect(healthy).toBe(0);
    expect(unhealthy).toBe(1);
  });
});
