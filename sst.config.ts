import type { SSTConfig } from 'sst';
import { APP_NAME, forgeStacks } from './stacks/forge-stacks.js';
import { loadStageConfig } from './stacks/stage-config.js';

/**
 * The SST v2 app of Catalyst Forge Pipeline (`npx sst deploy --stage NAME`, `npx sst dev`).
 * The stage's configuration comes from `FORGE_` variables (or `.env.<stage>`); docs/deploy.md
 * lists them.
 */
export default {
  config(input) {
    return { name: APP_NAME, region: input.region ?? 'us-east-1' };
  },
  stacks(app) {
    forgeStacks(app, loadStageConfig(app.stage));
  },
} satisfies SSTConfig;
