/**
 * The embedded Postgres after a crash of the process that started it: a real server started by
 * a child process (test/postgres/embedded-postgres-crashing-owner.ts) that is then killed with
 * SIGKILL, so its postmaster runs on, orphaned, on the data folder; and lock files left by
 * processes that are gone or that are not Postgres at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresServer } from '../../adapters/postgres/embedded-postgres-server.js';
import { connectPostgres } from '../../adapters/postgres/open-postgres.js';
import type { EmbeddedPostgresLogger } from '../../adapters/postgres/orphaned-postmaster.js';
import { EmbeddedPostgresError } from '../../adapters/postgres/postgres-errors.js';

const CHILD_READY_TIMEOUT_MS = 60_000;

let dataDir: string;
/** The child that starts the first server, and the postmaster it started. */
let owner: ChildProcess;
let orphanPid: number;
/** Processes this file started, to stop by PID when it ends. */
const started: { pid: number; signal: NodeJS.Signals }[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'forge-postgres-recovery-'));
  owner = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'embedded-postgres-crashing-owner.ts'), dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push({ pid: owner.pid as number, signal: 'SIGKILL' });
  const ready = await firstLine(owner);
  orphanPid = (JSON.parse(ready) as { pid: number }).pid;
  started.push({ pid: orphanPid, signal: 'SIGINT' });
});

afterAll(async () => {
  for (const { pid, signal } of started.reverse()) {
    if (isRunning(pid)) process.kill(pid, signal);
  }
  await waitUntil(() => started.every(({ pid }) => !isRunning(pid)), 10_000);
  await rm(dataDir, { recursive: true, force: true });
});

describe('EmbeddedPostgresServer after a crash', () => {
  it('leaves a server alone while the process that started it runs, naming that process', async () => {
    // Arrange: the owner child is alive (beforeAll).

    // Act
    const starting = EmbeddedPostgresServer.start({ dataDir, durable: false, logger: recorder() });

    // Assert
    await expect(starting).rejects.toThrow(EmbeddedPostgresError);
    await expect(starting).rejects.toThrow(`in use by process ${owner.pid}`);
    expect(isRunning(orphanPid)).toBe(true);
  });

  it('stops the server a killed process left running, then starts and answers queries', async () => {
    // Arrange
    const exited = new Promise((resolve) => owner.once('close', resolve));
    owner.kill('SIGKILL');
    await exited;
    expect(isRunning(orphanPid)).toBe(true);
    const logger = recorder();

    // Act
    const server = await EmbeddedPostgresServer.start({ dataDir, durable: false, logger });

    // Assert
    try {
      const sql = connectPostgres(server.urlFor(), 1);
      try {
        expect(await sql`SELECT 40 + 2 AS answer`).toEqual([{ answer: 42 }]);
      } finally {
        await sql.end({ timeout: 5 });
      }
      expect(server.pid).not.toBe(orphanPid);
      expect(isRunning(orphanPid)).toBe(false);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          message: expect.stringContaining('stopping the server a crashed process left running'),
          fields: expect.objectContaining({ pid: orphanPid }),
        }),
      );
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ fields: expect.objectContaining({ signal: 'SIGTERM' }) }),
      );
    } finally {
      await server.close();
    }
  });

  it('removes a lock file naming a live process that is not Postgres, and never signals it', async () => {
    // Arrange
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      stdio: 'ignore',
    });
    const bystanderPid = bystander.pid as number;
    started.push({ pid: bystanderPid, signal: 'SIGKILL' });
    let signalled: NodeJS.Signals | null = null;
    bystander.once('exit', (_code, signal) => (signalled = signal));
    await writeLockFile(bystanderPid);
    const logger = recorder();

    // Act
    const server = await EmbeddedPostgresServer.start({ dataDir, durable: false, logger });

    // Assert
    try {
      expect(await lockFilePid()).toBe(server.pid);
      expect(isRunning(bystanderPid)).toBe(true);
      expect(signalled).toBeNull();
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringContaining('removed postmaster.pid naming an unrelated process'),
          fields: expect.objectContaining({ pid: bystanderPid }),
        }),
      );
    } finally {
      await server.close();
    }
  });

  it('leaves the lock file of a process that is gone to Postgres, which replaces it', async () => {
    // Arrange
    const shortLived = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const gonePid = shortLived.pid as number;
    await new Promise((resolve) => shortLived.once('close', resolve));
    await writeLockFile(gonePid);
    const logger = recorder();

    // Act
    const server = await EmbeddedPostgresServer.start({ dataDir, durable: false, logger });

    // Assert
    try {
      expect(await lockFilePid()).toBe(server.pid);
      expect(logger.lines).toEqual([
        expect.objectContaining({
          level: 'info',
          message: expect.stringContaining('names a process that is gone'),
          fields: expect.objectContaining({ pid: gonePid }),
        }),
      ]);
    } finally {
      await server.close();
    }
  });
});

/** A logger that keeps what it is told. */
function recorder(): EmbeddedPostgresLogger & {
  lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[];
} {
  const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] =
    [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
  };
}

/** A `postmaster.pid` as a server with PID `pid` writes it (PID, data folder, start time, port). */
async function writeLockFile(pid: number): Promise<void> {
  const clusterDir = join(dataDir, 'cluster');
  await writeFile(join(clusterDir, 'postmaster.pid'), `${pid}\n${clusterDir}\n1700000000\n5432\n`);
}

async function lockFilePid(): Promise<number> {
  const text = await readFile(join(dataDir, 'cluster', 'postmaster.pid'), 'utf8');
  return Number.parseInt(text.split('\n')[0] ?? '', 10);
}

/** Whether `pid` is a running process (an exited one waiting for its parent does not count). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/\) [ZX] /.test(readStat(pid));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

async function firstLine(child: ChildProcess): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the owner child printed no PID in time: ${stderr}`)),
      CHILD_READY_TIMEOUT_MS,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const end = stdout.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, end));
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the owner child exited (${code}) before printing its PID: ${stderr}`));
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}
