import { ForgeError } from '../../core/errors.js';

/** The root of the errors of the worker's health and metrics server. */
export class HealthServerError extends ForgeError {}

/** The options given to `HealthServer.start` are invalid; names the offending option. */
export class HealthServerOptionsError extends HealthServerError {}

/** The server could not listen (port in use, address not available); `cause` says why. */
export class HealthServerListenError extends HealthServerError {
  constructor(host: string, port: number, cause: unknown) {
    super(`the health server could not listen on ${host}:${port}`, { cause });
  }
}
