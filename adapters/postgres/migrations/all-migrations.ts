import { initialSchema } from './0001-initial-schema.js';
import { statusEventClaims } from './0002-status-event-claims.js';
import type { Migration } from './migration.js';

/** Every migration of this build, in version order; append new ones, never edit old ones. */
export const MIGRATIONS: readonly Migration[] = [initialSchema, statusEventClaims];
