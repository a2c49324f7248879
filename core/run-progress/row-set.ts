import type { ExecutionStatus } from '../statuses.js';

/** A row type with its fields made writable, for the draft's working copies. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The rows of one kind in a draft, by natural key, with what was inserted or changed since
 * loading, so that the writer touches only those.
 */
export class RowSet<T extends { readonly status: ExecutionStatus }> {
  readonly rows = new Map<string, Mutable<T>>();
  readonly inserted = new Set<string>();
  readonly changed = new Set<string>();

  constructor(rows: readonly T[], keyOf: (row: T) => string) {
    for (const row of rows) this.rows.set(keyOf(row), { ...row });
  }

  insert(key: string, row: T): void {
    if (this.rows.has(key)) return;
    this.rows.set(key, { ...row });
    this.inserted.add(key);
  }

  insertedRows(): T[] {
    return [...this.inserted].map((key) => this.rows.get(key) as T);
  }

  changedRows(): T[] {
    return [...this.changed]
      .filter((key) => !this.inserted.has(key))
      .map((key) => this.rows.get(key) as T);
  }
}
