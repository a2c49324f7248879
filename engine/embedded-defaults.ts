/**
 * Defaults of the embedded mode that command lines show in their help, in a module that
 * loads nothing else, so defining a command does not load the engine.
 */

/** Task jobs at once in the embedded mode when nothing says otherwise. */
export const DEFAULT_EMBEDDED_TASK_CONCURRENCY = 4;
