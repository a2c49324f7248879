import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';

/** The structured logger shape the product's modules take: a message and flat fields. */
export interface FieldsLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Powertools' Logger behind the product's small logger interface, so modules outside the
 * functions never depend on Powertools' own types.
 */
export function fieldsLogger(logger: Logger): FieldsLogger {
  const attributes = (fields: Record<string, unknown> = {}) => fields as LogAttributes;
  return {
    debug: (message, fields) => logger.debug(message, attributes(fields)),
    info: (message, fields) => logger.info(message, attributes(fields)),
    warn: (message, fields) => logger.warn(message, attributes(fields)),
    error: (message, fields) => logger.error(message, attributes(fields)),
  };
}
