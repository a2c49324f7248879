import { describe, expect, it } from 'vitest';
import {
  JOB_RECORD_TTL_SECONDS,
  JobIdFormatError,
  JobMessageSchema,
  JobRecordSchema,
  artifactJobId,
  discoveryJobId,
  formatJobId,
  jobRecordTtl,
  parseJobId,
  releaseJobId,
  taskJobId,
} from './jobs.js';
import type { JobIdParts } from './jobs.js';

const runId = '3f1c2b9e-7d4a-4c1e-9b8f-2a6d5e4c3b21';
const sha = 'a'.repeat(40);

function taskMessage(overrides: Record<string, unknown> = {}) {
  return {
    job_id: `${runId}/task/test/api-server`,
    run_id: runId,
    type: 'task',
    repository: { name: 'acme/monorepo', clone_url: 'https://github.com/acme/monorepo.git' },
    commit_sha: sha,
    branch: 'main',
    deadline: '2025-01-01T12:00:00.000Z',
    payload: {
      phase: 'test',
      project: { name: 'api-server', path: 'services/api' },
      steps: [{ name: 'unit', action: 'shell', run: 'npm test', priority: 0 }],
    },
    ...overrides,
  };
}

describe('job ids', () => {
  it('builds the deterministic ids of DESIGN.md', () => {
    // Act
    const ids = [
      discoveryJobId(runId),
      taskJobId(runId, 'test', 'api-server'),
      releaseJobId(runId, 'api-server'),
      artifactJobId(runId, 'web'),
    ];

    // Assert
    expect(ids).toEqual([
      `${runId}/discovery`,
      `${runId}/task/test/api-server`,
      `${runId}/release/api-server`,
      `${runId}/artifact/web`,
    ]);
  });

  it.each<JobIdParts>([
    { type: 'discovery', runId },
    { type: 'task', runId, phase: 'build', project: 'api-server' },
    { type: 'release', runId, project: 'api-server' },
    { type: 'artifact', runId, project: 'web_ui.v2' },
  ])('round-trips $type ids through parseJobId', (parts) => {
    // Act
    const parsed = parseJobId(formatJobId(parts));

    // Assert
    expect(parsed).toEqual(parts);
  });

  it.each([
    '',
    runId,
    `${runId}/discovery/extra`,
    `${runId}/task/test`,
    `${runId}/task/test/api/extra`,
    `${runId}/release`,
    `${runId}/deploy/api`,
    `${runId}//discovery`,
    `${runId}/task/../api`,
    '/discovery',
  ])('does not parse %j', (jobId) => {
    // Act / Assert
    expect(parseJobId(jobId)).toBeUndefined();
  });

  it.each([
    () => taskJobId(runId, 'te/st', 'api'),
    () => releaseJobId(runId, ''),
    () => discoveryJobId('../run'),
    () => artifactJobId(runId, 'a b'),
  ])('refuses parts that would not round-trip', (build) => {
    // Act / Assert
    expect(build).toThrow(JobIdFormatError);
  });
});

describe('JobMessageSchema', () => {
  it('accepts a task message and keeps its steps as discovery wrote them', () => {
    // Act
    const parsed = JobMessageSchema.parse(taskMessage());

    // Assert
    expect(parsed.type).toBe('task');
    expect(parsed.payload).toEqual(taskMessage().payload);
  });

  it.each([
    { job_id: `${runId}/discovery`, type: 'discovery', payload: {} },
    {
      job_id: `${runId}/release/api-server`,
      type: 'release',
      payload: { projects: ['api-server'] },
    },
    {
      job_id: `${runId}/artifact/api-server`,
      type: 'artifact',
      payload: { project: 'api-server' },
    },
  ])('accepts a $type message', (variant) => {
    // Act
    const result = JobMessageSchema.safeParse(taskMessage({ ...variant, branch: undefined }));

    // Assert
    expect(result.success).toBe(true);
  });

  it.each([
    [
      'a task carrying an artifact payload',
      { payload: { project: 'api-server' } },
      'payload.phase',
    ],
    ['an unknown type', { type: 'deploy' }, 'type'],
    ['an id of another task', { job_id: `${runId}/task/build/api-server` }, 'job_id'],
    ['an id of another run', { job_id: 'other-run/task/test/api-server' }, 'job_id'],
    ['an id that is not a job id', { job_id: 'hello' }, 'job_id'],
    [
      'a repository without owner',
      { repository: { name: 'monorepo', clone_url: 'x' } },
      'repository.name',
    ],
    ['a short commit', { commit_sha: 'abc123' }, 'commit_sha'],
    ['a deadline that is not a time', { deadline: 'tomorrow' }, 'deadline'],
    [
      'an escaping project path',
      { payload: { ...taskMessage().payload, project: { name: 'api-server', path: '../etc' } } },
      'payload.project.path',
    ],
    [
      'an absolute project path',
      { payload: { ...taskMessage().payload, project: { name: 'api-server', path: '/etc' } } },
      'payload.project.path',
    ],
    [
      'a release without projects',
      { type: 'release', job_id: `${runId}/release/api-server`, payload: { projects: [] } },
      'payload.projects',
    ],
  ])('rejects %s', (_label, overrides, path) => {
    // Act
    const result = JobMessageSchema.safeParse(taskMessage(overrides));

    // Assert
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('accepts the root project path', () => {
    // Arrange
    const message = taskMessage({
      payload: { ...taskMessage().payload, project: { name: 'api-server', path: '.' } },
    });

    // Act / Assert
    expect(JobMessageSchema.safeParse(message).success).toBe(true);
  });
});

describe('JobRecordSchema', () => {
  const createdAt = new Date('2025-01-01T00:00:00.000Z');
  const record = {
    job_id: `${runId}/task/test/api-server`,
    run_id: runId,
    type: 'task',
    status: 'running',
    created_at: createdAt.toISOString(),
    updated_at: '2025-01-01T00:01:00.000Z',
    ttl: jobRecordTtl(createdAt),
    worker_id: 'task-worker-7',
    started_at: '2025-01-01T00:00:30.000Z',
    steps: {
      unit: {
        status: 'success',
        exit_code: 0,
        duration_ms: 1200,
        log_key: `${runId}/test/api-server/unit.log`,
      },
      lint: { status: 'running', started_at: '2025-01-01T00:00:45.000Z' },
    },
  };

  it('expires records seven days after creation', () => {
    // Act
    const ttl = jobRecordTtl(new Date('2025-01-01T00:00:00.999Z'));

    // Assert
    expect(JOB_RECORD_TTL_SECONDS).toBe(7 * 24 * 60 * 60);
    expect(ttl).toBe(1_735_689_600 + 604_800);
  });

  it('accepts a record and reads a missing cancel flag as false', () => {
    // Act
    const parsed = JobRecordSchema.parse(record);

    // Assert
    expect(parsed.cancel_requested).toBe(false);
    expect(parsed.steps?.['unit']?.exit_code).toBe(0);
  });

  it.each([
    ['a step status that jobs do not use', { status: 'success' }, 'status'],
    ['a job status on a step', { steps: { unit: { status: 'completed' } } }, 'steps.unit.status'],
    [
      'a negative duration',
      { steps: { unit: { status: 'success', duration_ms: -1 } } },
      'steps.unit.duration_ms',
    ],
    ['a ttl in milliseconds as text', { ttl: '1735689600000' }, 'ttl'],
    ['a non-boolean cancel flag', { cancel_requested: 'yes' }, 'cancel_requested'],
    ['a creation time without zone', { created_at: '2025-01-01 00:00:00' }, 'created_at'],
  ])('rejects %s', (_label, overrides, path) => {
    // Act
    const result = JobRecordSchema.safeParse({ ...record, ...overrides });

    // Assert
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
