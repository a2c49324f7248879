/**
 * `npm run manifests -- --outputs .sst/outputs.json --worker-image IMAGE [--buildkit-hosts
 * LIST] [--image-pull-policy POLICY] [--out FILE]`: renders the Kubernetes side of a deployed
 * stage from the outputs `sst deploy` wrote, as YAML for `kubectl apply -f` (stdout unless
 * `--out`). docs/deploy.md shows the whole installation.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { UsageError, runCli } from '../../cli/run-cli.js';
import { errorMessage } from '../../core/errors.js';
import { manifestsToYaml, renderManifests } from './render-manifests.js';
import { parseStackOutputs, type StackOutputs } from './stack-outputs.js';

interface ManifestFlags {
  outputs: string;
  workerImage: string;
  buildkitHosts?: string;
  imagePullPolicy: 'Always' | 'IfNotPresent';
  out?: string;
}

const program = new Command('manifests')
  .description('render the Kubernetes side of a deployed stage from its stack outputs')
  .requiredOption('--outputs <file>', 'the stack outputs sst deploy wrote (.sst/outputs.json)')
  .requiredOption(
    '--worker-image <image>',
    'the worker image (deploy/docker/Dockerfile, target worker)',
  )
  .option('--buildkit-hosts <list>', 'BuildKit runners for earthly steps, comma-separated')
  .addOption(
    new Option('--image-pull-policy <policy>', 'pull policy of the worker image')
      .choices(['Always', 'IfNotPresent'])
      .default('IfNotPresent'),
  )
  .option('--out <file>', 'write the YAML here instead of stdout')
  .action(async (flags: ManifestFlags) => {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(flags.outputs, 'utf8'));
    } catch (error) {
      throw new UsageError(`--outputs ${flags.outputs}: ${errorMessage(error)}`);
    }
    let outputs: StackOutputs;
    try {
      outputs = parseStackOutputs(json);
    } catch (error) {
      throw new UsageError(`--outputs ${flags.outputs}: ${errorMessage(error)}`);
    }
    const yaml = manifestsToYaml(
      renderManifests(outputs, {
        workerImage: flags.workerImage,
        imagePullPolicy: flags.imagePullPolicy,
        buildkitHosts: (flags.buildkitHosts ?? '')
          .split(',')
          .map((host) => host.trim())
          .filter((host) => host !== ''),
      }),
    );
    if (flags.out === undefined) process.stdout.write(yaml);
    else await writeFile(flags.out, yaml);
  });

await runCli(program);
