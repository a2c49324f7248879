import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { BuildkitRunnerPool, RunnerCircuit } from './buildkit-runner-pool.js';
import { BuildkitTlsFiles } from './buildkit-tls-files.js';
import { EarthlyExecutor } from './earthly-executor.js';
import { EarthlyBinaryNotFoundError } from './executor-errors.js';
import { StepOutcome } from './step-executor.js';
import { FakeEarthlyCli } from './testing/fake-earthly-cli.js';
import {
  earthlyStep,
  makeTempDir,
  recordedRequest,
  removeTempDir,
  waitUntil,
} from './testing/step-requests.js';

// Neither Earthly nor EarthBuild can be installed where these tests run: the CLI is a FAKE
// process (testing/fake-earthly-cli.ts) that records its arguments and environment and behaves
// per runner address as the test says. Everything on this side of the process boundary is real.

const A = 'tcp://runner-a:8372';
const B = 'tcp://runner-b:8372';

const TLS_SECRETS: Record<string, string> = {
  'ci/buildkit/ca': '-----BEGIN CERTIFICATE-----\nCA-CERTIFICATE-BODY\n-----END CERTIFICATE-----\n',
  'ci/buildkit/cert': '-----BEGIN CERTIFICATE-----\nCLIENT-CERT-BODY\n-----END CERTIFICATE-----\n',
  'ci/buildkit/key':
    '-----BEGIN PRIVATE KEY-----\nCLIENT-KEY-BODY-1234\n-----END PRIVATE KEY-----\n',
};

/** A secret store that counts its reads. */
function countingStore(values: Record<string, string>): SecretStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get: (path) => {
      reads.push(path);
      return Promise.resolve(values[path] ?? '');
    },
  };
}

describe('EarthlyExecutor', { timeout: 10_000 }, () => {
  let root: string;
  let workdir: string;
  let fake: FakeEarthlyCli;

  beforeEach(async () => {
    root = await realpath(await makeTempDir('earthly-executor'));
    workdir = join(root, 'repo');
    await mkdir(workdir);
    fake = new FakeEarthlyCli(join(root, 'fake'));
  });

  afterEach(async () => {
    await removeTempDir(root);
  });

  function executorFor(
    pool: BuildkitRunnerPool,
    extra: Partial<ConstructorParameters<typeof EarthlyExecutor>[0]> = {},
  ): EarthlyExecutor {
    return new EarthlyExecutor({
      runners: pool,
      baseEnv: { PATH: fake.binDir, HOME: root, WORKER_CREDENTIAL: 'must-not-leak' },
      ...extra,
    });
  }

  it('runs the target on a runner with the TLS config, secret names and args, in the workdir', async () => {
    // Arrange
    await fake.install('earthly');
    const tls = new BuildkitTlsFiles({
      store: countingStore(TLS_SECRETS),
      caCertPath: 'ci/buildkit/ca',
      clientCertPath: 'ci/buildkit/cert',
      clientKeyPath: 'ci/buildkit/key',
      directory: join(root, 'tls'),
    });
    const executor = executorFor(new BuildkitRunnerPool({ addresses: [A] }), { tls });
    const recorded = recordedRequest(earthlyStep('+build', { args: ['--ci', '--push'] }), workdir, {
      env: { FORGE_RUN_ID: 'run-7', FAKE_PRINT_SECRET: 'NPM_TOKEN' },
      secrets: { NPM_TOKEN: 'npm-secret-value' },
    });

    // Act
    const result = await executor.run(recorded.request);

    // Assert
    const [call] = await fake.calls();
    expect(result).toMatchObject({ outcome: StepOutcome.success, exitCode: 0 });
    expect(call?.args).toEqual([
      '--buildkit-host',
      A,
      '--config',
      join(root, 'tls', 'earthly-config.yml'),
      '--secret',
      'NPM_TOKEN',
      '--ci',
      '--push',
      '+build',
    ]);
    expect(call?.cwd).toBe(workdir);
    expect(call?.env).toMatchObject({
      NPM_TOKEN: 'npm-secret-value',
      FORGE_RUN_ID: 'run-7',
      HOME: root,
    });
    expect(call?.env['WORKER_CREDENTIAL']).toBeUndefined();
    expect(recorded.output()).toContain(`forge: running +build on BuildKit runner ${A}\n`);
    expect(recorded.output()).toContain('+build | built with token ***\n');
    expect(recorded.output()).not.toContain('npm-secret-value');
  });

  it('writes the TLS files once, privately, and reuses them across steps', async () => {
    // Arrange
    await fake.install('earthly');
    const store = countingStore(TLS_SECRETS);
    const directory = join(root, 'tls');
    const tls = new BuildkitTlsFiles({
      store,
      caCertPath: 'ci/buildkit/ca',
      clientCertPath: 'ci/buildkit/cert',
      clientKeyPath: 'ci/buildkit/key',
      directory,
    });
    const executor = executorFor(new BuildkitRunnerPool({ addresses: [A, B] }), { tls });

    // Act
    const results = await Promise.all(
      ['+one', '+two', '+three'].map((target) =>
        executor.run(recordedRequest(earthlyStep(target), workdir).request),
      ),
    );

    // Assert
    const configs = (await fake.calls()).map(
      (call) => call.args[call.args.indexOf('--config') + 1],
    );
    const configFile = join(directory, 'earthly-config.yml');
    expect(results.map((result) => result.outcome)).toEqual(['success', 'success', 'success']);
    expect(store.reads.sort()).toEqual(['ci/buildkit/ca', 'ci/buildkit/cert', 'ci/buildkit/key']);
    expect(configs).toEqual([configFile, configFile, configFile]);
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual({
      global: {
        tls_enabled: true,
        tlsca: join(directory, 'ca.pem'),
        tlscert: join(directory, 'cert.pem'),
        tlskey: join(directory, 'key.pem'),
      },
    });
    expect(await readFile(join(directory, 'key.pem'), 'utf8')).toBe(TLS_SECRETS['ci/buildkit/key']);
    expect((await stat(directory)).mode & 0o777).toBe(0o700);
    for (const file of ['ca.pem', 'cert.pem', 'key.pem', 'earthly-config.yml']) {
      expect((await stat(join(directory, file))).mode & 0o777).toBe(0o600);
    }
  });

  it('retries once on another runner after a connection failure', async () => {
    // Arrange
    await fake.install('earthly');
    await fake.setBehaviours({ [A]: 'connection-failure', [B]: 'succeed' });
    const pool = new BuildkitRunnerPool({ addresses: [A, B] });
    const recorded = recordedRequest(earthlyStep('+build'), workdir);

    // Act
    const result = await executorFor(pool).run(recorded.request);

    // Assert
    expect(result).toMatchObject({ outcome: StepOutcome.success, exitCode: 0 });
    expect(await fake.hosts()).toEqual([A, B]);
    expect(recorded.output()).toContain(`forge: BuildKit runner ${A} unreachable (`);
    expect(recorded.output()).toContain('retrying once on another runner');
    expect(pool.snapshot().map((runner) => runner.consecutiveFailures)).toEqual([1, 0]);
  });

  it('does not retry a build that failed, even if its output mentions a refused connection', async () => {
    // Arrange
    await fake.install('earthly');
    await fake.setBehaviours({ [A]: 'build-failure' });
    const pool = new BuildkitRunnerPool({ addresses: [A, B] });
    const recorded = recordedRequest(earthlyStep('+build'), workdir);

    // Act
    const result = await executorFor(pool).run(recorded.request);

    // Assert
    expect(result).toMatchObject({
      outcome: StepOutcome.failed,
      exitCode: 1,
      reason: 'exit code 1',
    });
    expect(await fake.hosts()).toEqual([A]);
    expect(pool.snapshot()[0]).toMatchObject({
      consecutiveFailures: 0,
      circuit: RunnerCircuit.closed,
    });
  });

  it('fails naming both runners when the retry fails to connect too', async () => {
    // Arrange
    await fake.install('earthly');
    await fake.setBehaviours({ [A]: 'connection-failure', [B]: 'connection-failure' });
    const recorded = recordedRequest(earthlyStep('+build'), workdir);

    // Act
    const result = await executorFor(new BuildkitRunnerPool({ addresses: [A, B] })).run(
      recorded.request,
    );

    // Assert
    expect(result.outcome).toBe(StepOutcome.failed);
    expect(result.reason).toMatch(
      /^BuildKit runner tcp:\/\/runner-b:8372 unreachable \(.*connection refused\) after tcp:\/\/runner-a:8372 was unreachable/,
    );
    expect(await fake.hosts()).toEqual([A, B]);
  });

  it('opens the circuit after repeated connection failures and half-opens after the cool-down', async () => {
    // Arrange
    await fake.install('earthly');
    await fake.setBehaviours({ [A]: 'connection-failure' });
    let now = 0;
    const pool = new BuildkitRunnerPool({
      addresses: [A],
      failureThreshold: 3,
      coolDownMs: 30_000,
      now: () => now,
    });
    const executor = executorFor(pool);
    const runStep = (): ReturnType<EarthlyExecutor['run']> =>
      executor.run(recordedRequest(earthlyStep('+build'), workdir).request);

    // Act
    const failures = [await runStep(), await runStep(), await runStep()];
    const whileOpen = await runStep();
    const callsWhileOpen = (await fake.calls()).length;
    now += 30_000;
    await fake.setBehaviours({ [A]: 'succeed' });
    const trial = await runStep();

    // Assert
    for (const failure of failures) {
      expect(failure.reason).toMatch(
        /^BuildKit runner tcp:\/\/runner-a:8372 unreachable .* and no other runner for a retry/,
      );
    }
    expect(whileOpen).toMatchObject({ outcome: StepOutcome.failed, exitCode: null });
    expect(whileOpen.reason).toMatch(
      /^no BuildKit runner available: tcp:\/\/runner-a:8372 circuit open; the next runner half-opens in 30 s$/,
    );
    expect(callsWhileOpen).toBe(3);
    expect(trial.outcome).toBe(StepOutcome.success);
    expect(pool.snapshot()[0]).toMatchObject({
      circuit: RunnerCircuit.closed,
      consecutiveFailures: 0,
    });
  });

  it('sends a step to the least busy runner', async () => {
    // Arrange
    await fake.install('earthly');
    await fake.setBehaviours({ [A]: 'hang', [B]: 'succeed' });
    const executor = executorFor(new BuildkitRunnerPool({ addresses: [A, B] }));
    const hanging = recordedRequest(earthlyStep('+slow'), workdir);
    const slow = executor.run(hanging.request);
    await waitUntil(async () => (await fake.calls()).length === 1, 5000, 'the first step to start');

    // Act
    const second = await executor.run(recordedRequest(earthlyStep('+quick'), workdir).request);
    hanging.controller.abort();
    const first = await slow;

    // Assert
    expect(await fake.hosts()).toEqual([A, B]);
    expect(second.outcome).toBe(StepOutcome.success);
    expect(first.outcome).toBe(StepOutcome.cancelled);
  });

  it('finds EarthBuild’s earth when earthly is absent', async () => {
    // Arrange
    await fake.install('earth');
    const recorded = recordedRequest(earthlyStep('+build'), workdir);

    // Act
    const result = await executorFor(new BuildkitRunnerPool({ addresses: [A] })).run(
      recorded.request,
    );

    // Assert
    const [call] = await fake.calls();
    expect(result.outcome).toBe(StepOutcome.success);
    expect(call?.binaryName).toBe('earth');
  });

  it('uses a configured binary path', async () => {
    // Arrange
    const binary = await fake.install('earthly-v0.8');
    const executor = executorFor(new BuildkitRunnerPool({ addresses: [A] }), {
      binary,
      baseEnv: { PATH: '/nonexistent' },
    });

    // Act
    const result = await executor.run(recordedRequest(earthlyStep('+build'), workdir).request);

    // Assert
    expect(result.outcome).toBe(StepOutcome.success);
    expect((await fake.calls())[0]?.binaryName).toBe('earthly-v0.8');
  });

  it('throws a clear error when neither earthly nor earth exists', async () => {
    // Arrange
    await fake.install('not-earthly');
    const executor = executorFor(new BuildkitRunnerPool({ addresses: [A] }));

    // Act
    const running = executor.run(recordedRequest(earthlyStep('+build'), workdir).request);

    // Assert
    await expect(running).rejects.toBeInstanceOf(EarthlyBinaryNotFoundError);
    await expect(running).rejects.toThrow(
      'no Earthly CLI found: looked for earthly on PATH, earth on PATH',
    );
  });
});
