import { describe, expect, it } from 'vitest';
import { ConfigurationError } from './environment.js';
import { loadForgeEnvironment } from './forge-environment.js';
import { loadWorkerEnvironment } from './worker-environment.js';

describe('loadForgeEnvironment', () => {
  it('applies defaults when nothing is set, and treats empty values as unset', () => {
    const config = loadForgeEnvironment({ FORGE_MODE: '' });

    expect(config.FORGE_MODE).toBe('embedded');
    expect(config.FORGE_CONFIG_CACHE_DIR).toBeUndefined();
    expect(config.FORGE_REPOSITORY_CACHE_MAX_SIZE).toBe(100 * 1024 ** 3);
  });

  it('parses sizes with binary units', () => {
    expect(loadForgeEnvironment({ FORGE_REPOSITORY_CACHE_MAX_SIZE: '512Mi' })).toMatchObject({
      FORGE_REPOSITORY_CACHE_MAX_SIZE: 512 * 1024 ** 2,
    });
    expect(loadForgeEnvironment({ FORGE_REPOSITORY_CACHE_MAX_SIZE: '2048' })).toMatchObject({
      FORGE_REPOSITORY_CACHE_MAX_SIZE: 2048,
    });
  });

  it('names the variable of a bad value', () => {
    expect(() => loadForgeEnvironment({ FORGE_MODE: 'cloud' })).toThrow(ConfigurationError);
    expect(() => loadForgeEnvironment({ FORGE_MODE: 'cloud' })).toThrow(/^FORGE_MODE: /);
    expect(() => loadForgeEnvironment({ FORGE_REPOSITORY_CACHE_MAX_SIZE: 'lots' })).toThrow(
      'FORGE_REPOSITORY_CACHE_MAX_SIZE: "lots" is not a size such as 512Mi or 100Gi',
    );
  });
});

describe('loadWorkerEnvironment', () => {
  it('reads runner lists and durations given as plain seconds', () => {
    const config = loadWorkerEnvironment({
      FORGE_BUILDKIT_HOSTS: 'tcp://a:8372, tcp://b:8372',
      FORGE_SHUTDOWN_GRACE: '30',
      FORGE_WORKER_RECEIVE_WAIT: '5s',
    });

    expect(config.FORGE_BUILDKIT_HOSTS).toEqual(['tcp://a:8372', 'tcp://b:8372']);
    expect(config.FORGE_SHUTDOWN_GRACE).toBe(30);
    expect(config.FORGE_WORKER_RECEIVE_WAIT).toBe(5);
    expect(config.FORGE_HEALTH_HOST).toBe('127.0.0.1');
  });

  it('refuses a receive wait over SQS long polling and partial TLS settings', () => {
    expect(() => loadWorkerEnvironment({ FORGE_WORKER_RECEIVE_WAIT: '30' })).toThrow(
      /^FORGE_WORKER_RECEIVE_WAIT: /,
    );
    expect(() => loadWorkerEnvironment({ FORGE_BUILDKIT_TLS_CA_SECRET: 'ci/ca' })).toThrow(
      /set all three/,
    );
  });
});
