import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the fake CLI does for a runner address: succeed, fail like a build (`exit 1` with
 * BuildKit's RUN error, plus a `connection refused` printed by the build's own RUN, which must not
 * fool the classifier), fail like a lost connection, or hang until killed.
 */
export type FakeRunnerBehaviour = 'succeed' | 'build-failure' | 'connection-failure' | 'hang';

/** One recorded invocation of the fake CLI. */
export interface FakeEarthlyCall {
  readonly binaryName: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly startedAt: number;
}

/**
 * A FAKE Earthly CLI for tests. Neither Earthly nor EarthBuild can be installed on the machines
 * that run these tests, so the process boundary is faked: a Node script installed as `earthly`
 * (or `earth`) in a bin folder, which records its arguments, working folder and environment to
 * a JSON file per call and then behaves as `behaviours.json` says for the `--buildkit-host`
 * it was given (default `succeed`). The test rewrites that file to change behaviours.
 */
export class FakeEarthlyCli {
  readonly binDir: string;
  private readonly callsDir: string;
  private readonly behavioursFile: string;

  constructor(readonly root: string) {
    this.binDir = join(root, 'bin');
    this.callsDir = join(root, 'calls');
    this.behavioursFile = join(root, 'behaviours.json');
  }

  /** Writes the script as `name` (`earthly` or `earth`) into {@link binDir}. */
  async install(name = 'earthly'): Promise<string> {
    await mkdir(this.binDir, { recursive: true });
    await mkdir(this.callsDir, { recursive: true });
    await this.setBehaviours({});
    const file = join(this.binDir, name);
    await writeFile(file, fakeScript(this.callsDir, this.behavioursFile));
    await chmod(file, 0o755);
    return file;
  }

  async setBehaviours(behaviours: Readonly<Record<string, FakeRunnerBehaviour>>): Promise<void> {
    await writeFile(this.behavioursFile, JSON.stringify(behaviours));
  }

  /** Every call so far, in start order. */
  async calls(): Promise<FakeEarthlyCall[]> {
    const names = (await readdir(this.callsDir)).filter((name) => name.endsWith('.json'));
    const calls = await Promise.all(
      names.map(
        async (name) =>
          JSON.parse(await readFile(join(this.callsDir, name), 'utf8')) as FakeEarthlyCall,
      ),
    );
    return calls.sort((left, right) => left.startedAt - right.startedAt);
  }

  /** The `--buildkit-host` of every call, in order. */
  async hosts(): Promise<string[]> {
    return (await this.calls()).map(
      (call) => call.args[call.args.indexOf('--buildkit-host') + 1] ?? '',
    );
  }
}

function fakeScript(callsDir: string, behavioursFile: string): string {
  return `#!${process.execPath}
// FAKE Earthly CLI written by a test (see fake-earthly-cli.ts): records the call, then behaves.
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const host = args[args.indexOf('--buildkit-host') + 1] || '';
const startedAt = process.hrtime.bigint();
fs.writeFileSync(
  path.join(${JSON.stringify(callsDir)}, startedAt + '-' + process.pid + '.json'),
  JSON.stringify({
    binaryName: path.basename(process.argv[1]),
    args,
    cwd: process.cwd(),
    env: process.env,
    startedAt: Number(startedAt),
  }),
);
const behaviours = JSON.parse(fs.readFileSync(${JSON.stringify(behavioursFile)}, 'utf8'));
const behaviour = behaviours[host] || 'succeed';
const target = args[args.length - 1];
console.log(' Init 🚀');
console.log('buildkitd | Connecting to ' + host + '...');
switch (behaviour) {
  case 'succeed':
    console.log('buildkitd | ...Done');
    console.log(target + ' | built with token ' + (process.env.FAKE_PRINT_SECRET ? process.env[process.env.FAKE_PRINT_SECRET] : 'hidden'));
    console.log('🌍 Earthly run succeeded');
    process.exit(0);
  case 'build-failure':
    console.log('buildkitd | ...Done');
    console.log(target + ' | curl: (7) Failed to connect to example.com port 80: Connection refused');
    console.error('Error: build target: ' + target + ': process "/bin/sh -c curl example.com" did not complete successfully: exit code: 7');
    process.exit(1);
  case 'connection-failure':
    console.error('Error: connect provided buildkit: timeout 1s: could not connect to buildkit: dial tcp: connect: connection refused');
    process.exit(1);
  case 'hang':
    console.log('buildkitd | ...Done');
    setTimeout(() => process.exit(0), 60000);
    break;
}
`;
}
