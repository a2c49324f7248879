/**
 * Inputs shared by the dispatcher's tests: a job source, a discovery output that satisfies the
 * contract, and a step list; and a reader of the JSON files a dispatch writes.
 */
import { readFile } from 'node:fs/promises';
import type { DiscoveryOutput, Step } from '../../core/contracts/discovery-output.js';
import type { JobSource } from '../../dispatcher/job-messages.js';
import { uniqueResourceName } from '../support/local-aws.js';

/** A commit SHA of the right shape. */
export const COMMIT = 'a'.repeat(40);

/** A source for a new run, whose job must end within `timeoutMs`. */
export function jobSource(timeoutMs = 60_000): JobSource {
  return {
    runId: uniqueResourceName('run'),
    repository: 'acme/monorepo',
    cloneUrl: 'https://github.com/acme/monorepo.git',
    commit: COMMIT,
    branch: 'main',
    deadline: new Date(Date.now() + timeoutMs),
  };
}

/** One shell step, as discovery outputs it. */
export const UNIT_STEP: Step = {
  name: 'unit',
  action: 'shell',
  run: 'npm test',
  priority: 0,
  args: [],
  secrets: [],
  timeout: null,
};

/** A discovery output with two projects, two phase groups and one release. */
export const DISCOVERY_OUTPUT: DiscoveryOutput = {
  repository: {
    forgeVersion: '1.0.0',
    tagging: { strategy: 'monorepo' },
    phases: {
      test: { group: 1, description: 'test', timeout: null, required: false },
      build: { group: 2, description: 'build', timeout: 600, required: false },
    },
    publishers: {},
  },
  projects: [
    {
      name: 'api',
      path: 'services/api',
      phases: { test: [UNIT_STEP], build: [{ ...UNIT_STEP, name: 'image', run: 'make' }] },
      releaseTriggered: true,
      deploymentTriggered: false,
    },
    {
      name: 'web',
      path: 'services/web',
      phases: { test: [UNIT_STEP] },
      releaseTriggered: false,
      deploymentTriggered: false,
    },
  ],
  phaseGroups: [
    { group: 1, phases: ['test'] },
    { group: 2, phases: ['build'] },
  ],
  releaseEnabled: true,
  releaseProjects: ['api'],
  errors: [],
};

/** The parsed content of a JSON file a dispatch wrote. */
export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}
