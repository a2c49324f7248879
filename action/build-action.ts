/**
 * `npm run build:action`: writes `action/dist` from `action/src` (see `renderActionDist`), and
 * removes JavaScript there that no source produces any more.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ACTION_DIST_DIR, renderActionDist } from './render-action-dist.js';

const files = await renderActionDist();
await mkdir(ACTION_DIST_DIR, { recursive: true });
for (const existing of await readdir(ACTION_DIST_DIR)) {
  if (!files.has(existing)) await rm(join(ACTION_DIST_DIR, existing));
}
for (const [name, text] of files) await writeFile(join(ACTION_DIST_DIR, name), text);
process.stdout.write(`action/dist: ${[...files.keys()].join(', ')}\n`);
