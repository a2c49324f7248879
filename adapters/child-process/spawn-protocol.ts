/**
 * The messages between {@link ProcessSpawner} and its spawn server, over the IPC channel as
 * JSON. Output travels decoded (UTF-8, split on character boundaries by the server).
 */

/** What a child is started with: the fields of `spawn` the spawner supports. */
export interface SpawnRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string | undefined;
  /** The complete environment of the child. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Makes the child the leader of a new process group (and session). */
  readonly detached?: boolean;
}

/** Requests from the spawner to the server. */
export type SpawnCommand =
  | ({ readonly op: 'spawn'; readonly id: number } & SpawnRequest)
  | { readonly op: 'kill'; readonly id: number; readonly signal: NodeJS.Signals }
  | { readonly op: 'destroy-pipes'; readonly id: number };

/** Events from the server about one child. */
export type SpawnEvent =
  | { readonly id: number; readonly event: 'spawned'; readonly pid: number }
  | {
      readonly id: number;
      readonly event: 'failed';
      readonly code: string | undefined;
      readonly message: string;
    }
  | {
      readonly id: number;
      readonly event: 'output';
      readonly stream: 'stdout' | 'stderr';
      readonly chunk: string;
    }
  | {
      readonly id: number;
      readonly event: 'exit';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
    }
  | { readonly id: number; readonly event: 'close' };
