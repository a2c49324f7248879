import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { EarthlyBinaryNotFoundError } from './executor-errors.js';

/** Binary names tried on PATH, in order: Earthly's CLI, then EarthBuild's (since v0.8.18). */
export const EARTHLY_BINARY_NAMES: readonly string[] = ['earthly', 'earth'];

/** Where to look for the Earthly CLI. */
export interface EarthlyBinarySearch {
  /** A configured binary: a path (with a `/`) used as is, or a name looked up on PATH. */
  readonly binary?: string;
  /** The PATH to search (the worker's). */
  readonly path: string | undefined;
}

/**
 * The Earthly CLI to run: the configured binary if given, else the first of `earthly` and
 * `earth` found on PATH (every PATH folder is searched for `earthly` before `earth` is tried).
 * Throws {@link EarthlyBinaryNotFoundError} naming what was searched when nothing executable exists.
 */
export async function findEarthlyBinary(search: EarthlyBinarySearch): Promise<string> {
  if (search.binary !== undefined && search.binary.includes('/')) {
    if (await isExecutableFile(search.binary)) return search.binary;
    throw new EarthlyBinaryNotFoundError([search.binary]);
  }
  const names = search.binary === undefined ? EARTHLY_BINARY_NAMES : [search.binary];
  const folders = (search.path ?? '').split(delimiter).filter((folder) => isAbsolute(folder));
  for (const name of names) {
    for (const folder of folders) {
      const candidate = join(folder, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  throw new EarthlyBinaryNotFoundError(names.map((name) => `${name} on PATH`));
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
