import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { aborted, WorkerHarness } from '../runtime/testing/worker-harness.js';
import { HealthServer, type HealthProbe } from './health-server.js';
import { HealthServerOptionsError } from './health-server-errors.js';
import { CacheName, WorkerMetrics } from './worker-metrics.js';

const alwaysUp: HealthProbe = { live: true, ready: true };

describe('HealthServer', () => {
  let harness: WorkerHarness;
  const servers: HealthServer[] = [];

  async function startServer(
    options: Partial<Parameters<typeof HealthServer.start>[0]> = {},
  ): Promise<HealthServer> {
    const server = await HealthServer.start({
      port: 0,
      probes: [alwaysUp],
      metrics: new WorkerMetrics({ processMetrics: false }),
      ...options,
    });
    servers.push(server);
    return server;
  }

  beforeEach(() => {
    harness = new WorkerHarness();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await harness.close();
  });

  it('serves the job counters and durations after a job, with process metrics', async () => {
    const metrics = new WorkerMetrics();
    const worker = harness.worker({
      metrics,
      handler: () => {
        metrics.recordCacheLookup(CacheName.repository, true);
        return Promise.resolve({ status: 'completed' });
      },
    });
    const server = await startServer({ probes: [worker], metrics });
    const job = await harness.submit();

    await worker.start();
    await vi.waitFor(async () =>
      expect((await harness.jobs.get(job.job_id))?.status).toBe('completed'),
    );
    await vi.waitFor(async () =>
      expect(await harness.queue.depth()).toEqual({ visible: 0, inFlight: 0 }),
    );
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const labels = '{queue="tasks",type="discovery",outcome="completed"}';
    expect(text).toContain(`forge_worker_jobs_total${labels} 1`);
    expect(text).toContain(`forge_worker_job_duration_seconds_count${labels} 1`);
    expect(text).toContain('forge_worker_receive_latency_seconds_count{queue="tasks"} 1');
    expect(text).toContain('forge_worker_cache_lookups_total{cache="repository",result="hit"} 1');
    expect(text).toContain('forge_worker_jobs_in_flight{queue="tasks"} 0');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('answers /readyz 503 as soon as the worker starts closing, /healthz 200 until it stopped', async () => {
    await harness.submit();
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const worker = await harness.startWorker({
      shutdownGraceMs: 300,
      handler: async (_message, { signal }) => {
        started();
        await aborted(signal);
        return { status: 'cancelled', reason: 'shutdown' };
      },
    });
    const server = await startServer({ probes: [worker] });
    await handlerStarted;
    const readyBefore = (await fetch(`${server.url}/readyz`)).status;

    const closing = worker.close();
    const readyWhileClosing = (await fetch(`${server.url}/readyz`)).status;
    const liveWhileClosing = (await fetch(`${server.url}/healthz`)).status;
    await closing;
    const liveAfterClose = (await fetch(`${server.url}/healthz`)).status;

    expect(readyBefore).toBe(200);
    expect(readyWhileClosing).toBe(503);
    expect(liveWhileClosing).toBe(200);
    expect(liveAfterClose).toBe(503);
  });

  it('is not ready until every probe is', async () => {
    const server = await startServer({ probes: [alwaysUp, { live: true, ready: false }] });

    const ready = await fetch(`${server.url}/readyz`);
    const live = await fetch(`${server.url}/healthz`);

    expect(ready.status).toBe(503);
    expect(await ready.text()).toBe('not ready\n');
    expect(live.status).toBe(200);
  });

  it('binds 127.0.0.1 by default and answers only GET and HEAD on its three paths', async () => {
    const server = await startServer();

    const unknown = await fetch(`${server.url}/nope`);
    const post = await fetch(`${server.url}/healthz`, { method: 'POST' });
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });

    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(unknown.status).toBe(404);
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 500 when the metrics cannot be collected', async () => {
    const server = await startServer({
      metrics: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('boom')) },
    });

    const response = await fetch(`${server.url}/metrics`);

    expect(response.status).toBe(500);
  });

  it('closes idempotently and stops answering', async () => {
    const server = await startServer();
    const url = `${server.url}/healthz`;
    await fetch(url);

    const first = server.close();
    const second = server.close();
    await first;

    expect(second).toBe(first);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses a port out of range, naming the option', async () => {
    const starting = HealthServer.start({
      port: 70_000,
      probes: [alwaysUp],
      metrics: new WorkerMetrics(),
    });

    await expect(starting).rejects.toBeInstanceOf(HealthServerOptionsError);
    await expect(starting).rejects.toThrow(/option port/);
  });
});
