import { describe, expect, it } from 'vitest';
import { JobDisposition } from '../runtime/job-worker-metrics.js';
import { CacheName, WorkerMetrics } from './worker-metrics.js';

describe('WorkerMetrics', () => {
  it('reports pool utilisation as jobs in flight over concurrency', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });

    metrics.setInFlight('tasks', 3, 4);
    const text = await metrics.metrics();

    expect(text).toContain('forge_worker_jobs_in_flight{queue="tasks"} 3');
    expect(text).toContain('forge_worker_pool_utilization_ratio{queue="tasks"} 0.75');
  });

  it('counts jobs by type and outcome, timing only those whose handler ran', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });

    metrics.recordJob({
      queue: 'tasks',
      type: 'task',
      disposition: JobDisposition.completed,
      durationSeconds: 42,
    });
    metrics.recordJob({ queue: 'tasks', type: 'task', disposition: JobDisposition.duplicate });
    const text = await metrics.metrics();

    expect(text).toContain(
      'forge_worker_jobs_total{queue="tasks",type="task",outcome="completed"} 1',
    );
    expect(text).toContain(
      'forge_worker_jobs_total{queue="tasks",type="task",outcome="duplicate"} 1',
    );
    expect(text).toContain(
      'forge_worker_job_duration_seconds_sum{queue="tasks",type="task",outcome="completed"} 42',
    );
    expect(text).not.toContain(
      'forge_worker_job_duration_seconds_count{queue="tasks",type="task",outcome="duplicate"}',
    );
  });

  it('counts cache hits and misses per cache', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });

    metrics.recordCacheLookup(CacheName.repository, true);
    metrics.recordCacheLookup(CacheName.repository, true);
    metrics.recordCacheLookup(CacheName.config, false);
    const text = await metrics.metrics();

    expect(text).toContain('forge_worker_cache_lookups_total{cache="repository",result="hit"} 2');
    expect(text).toContain('forge_worker_cache_lookups_total{cache="config",result="miss"} 1');
  });

  it('counts worktrees given back by result, and the snapshots taken of them', async () => {
    const metrics = new WorkerMetrics({ processMetrics: false });

    metrics.recordWorktreeRelease(true);
    metrics.recordWorktreeRelease(false);
    metrics.recordWorktreeRelease(false);
    metrics.recordWorktreeSnapshot();
    const text = await metrics.metrics();

    expect(text).toContain('forge_worker_worktree_releases_total{result="restored"} 1');
    expect(text).toContain('forge_worker_worktree_releases_total{result="untouched"} 2');
    expect(text).toContain('forge_worker_worktree_snapshots_total 1');
  });

  it('keeps a registry per instance, with its default labels and process metrics', async () => {
    const discovery = new WorkerMetrics({ defaultLabels: { pool: 'discovery' } });
    const task = new WorkerMetrics({ defaultLabels: { pool: 'task' } });

    discovery.observeReceiveLatency('discovery', 0.2);
    const [discoveryText, taskText] = await Promise.all([discovery.metrics(), task.metrics()]);

    // Histograms list default labels first, counters last: match either order.
    expect(discoveryText).toMatch(
      /^forge_worker_receive_latency_seconds_count\{(?=[^}]*queue="discovery")(?=[^}]*pool="discovery")[^}]*\} 1$/m,
    );
    expect(taskText).not.toContain('forge_worker_receive_latency_seconds_count');
    expect(taskText).toMatch(/^process_cpu_user_seconds_total\{pool="task"\} /m);
    expect(task.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
