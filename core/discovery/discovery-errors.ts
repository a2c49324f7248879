import { ForgeError } from '../errors.js';

/** The root of every error that stops discovery as a whole (a single bad project never does). */
export class DiscoveryError extends ForgeError {}

/** The folder to discover does not exist, is not a folder, or cannot be read. */
export class RepositoryUnreadableError extends DiscoveryError {
  constructor(
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`cannot read repository at ${path}: ${reason}`, options);
  }
}

/** There is no `.forge/repo.cue`: the folder is not a Forge repository. */
export class RepositoryConfigNotFoundError extends DiscoveryError {
  constructor(readonly path: string) {
    super(`${path} not found: this is not a Forge repository`);
  }
}

/** `.forge/repo.cue` exists but does not evaluate or does not describe a valid repository. */
export class RepositoryConfigInvalidError extends DiscoveryError {
  constructor(
    readonly path: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${path}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}

/** The repository is over one of the limits of DESIGN.md section 3. */
export class DiscoveryLimitError extends DiscoveryError {}
