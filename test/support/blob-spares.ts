import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** The paths of the spare files and folders the blob writers of `root` made (`BlobFolder`). */
export async function sparePaths(root: string): Promise<string[]> {
  const folders = await readdir(join(root, '.tmp')).catch(() => []);
  const paths = await Promise.all(
    folders
      .filter((name) => name.startsWith('spares-'))
      .map(async (name) => {
        const entries = await readdir(join(root, '.tmp', name)).catch(() => []);
        return entries.map((entry) => join(root, '.tmp', name, entry));
      }),
  );
  return paths.flat();
}

/** Waits, five seconds at most, until `root` holds at least `count` spares; their paths. */
export async function waitForSpares(root: string, count: number): Promise<string[]> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const paths = await sparePaths(root);
    if (paths.length >= count) return paths;
    await delay(25);
  }
  throw new Error(`fewer than ${count} spares were made in ${root}/.tmp`);
}
