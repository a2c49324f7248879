import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../config/environment.js';
import { embeddedPoolSize, loadPostgresConfig } from '../../config/postgres-environment.js';
import { loadReconcileConfig } from '../../functions/reconcile/reconcile-environment.js';

describe('loadPostgresConfig', () => {
  it('runs an embedded server under the working directory when no database is named', () => {
    // Act
    const config = loadPostgresConfig({ DATABASE_URL: '' }, '/srv/forge');

    // Assert
    expect(config).toEqual({
      kind: 'embedded',
      dataDir: '/srv/forge/.forge-data/postgres',
      port: 0,
      poolSize: embeddedPoolSize(),
      migrate: true,
    });
  });

  it('opens a connection per core to the embedded server, between two and ten', () => {
    // Act
    const sizes = [1, 2, 8, 64].map((cores) => embeddedPoolSize(cores));
    const chosen = loadPostgresConfig({ FORGE_POSTGRES_POOL_SIZE: '7' }, '/srv/forge');

    // Assert
    expect(sizes).toEqual([2, 2, 8, 10]);
    expect(chosen.poolSize).toBe(7);
  });

  it('takes DATABASE_URL over a secret, and a secret over the embedded server', () => {
    // Act
    const url = loadPostgresConfig({
      DATABASE_URL: 'postgresql://forge:secret@db.internal:5432/forge',
      FORGE_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:forge-db',
      FORGE_POSTGRES_POOL_SIZE: '2',
      FORGE_POSTGRES_MIGRATE: 'false',
    });
    const secret = loadPostgresConfig({
      FORGE_DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:forge-db',
    });

    // Assert
    expect(url).toEqual({
      kind: 'url',
      url: 'postgresql://forge:secret@db.internal:5432/forge',
      poolSize: 2,
      migrate: false,
    });
    expect(secret).toMatchObject({
      kind: 'secret',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:forge-db',
    });
  });

  it('names the variable of a bad value, without echoing it', () => {
    // Act
    const badUrl = () => loadPostgresConfig({ DATABASE_URL: 'mysql://root:hunter2@db/forge' });
    const badPort = () => loadPostgresConfig({ FORGE_POSTGRES_PORT: '70000' });
    const badDir = () =>
      loadPostgresConfig({ FORGE_POSTGRES_DATA_DIR: '/data', FORGE_POSTGRES_MIGRATE: 'yes' });

    // Assert
    expect(badUrl).toThrow(ConfigurationError);
    expect(badUrl).toThrow(/^DATABASE_URL: must be a postgres:\/\/ URL$/);
    expect(badPort).toThrow(/^FORGE_POSTGRES_PORT: /);
    expect(badDir).toThrow(/^FORGE_POSTGRES_MIGRATE: /);
  });
});

describe('loadReconcileConfig', () => {
  const complete = {
    DATABASE_URL: 'postgres://forge:secret@db.internal/forge',
    FORGE_RESULTS_BUCKET: 'forge-results',
    FORGE_GITHUB_STATUS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/forge-status.fifo',
  };

  it('reads the database, the results bucket, the status queue and the Argo link', () => {
    // Act
    const config = loadReconcileConfig({
      ...complete,
      FORGE_ARGO_UI_URL: 'https://argo.example.com',
    });

    // Assert
    expect(config).toEqual({
      postgres: { kind: 'url', url: complete.DATABASE_URL, poolSize: 10, migrate: true },
      resultsBucket: 'forge-results',
      s3ForcePathStyle: false,
      statusQueueUrl: complete.FORGE_GITHUB_STATUS_QUEUE_URL,
      argo: { uiUrl: 'https://argo.example.com', namespace: 'forge' },
    });
  });

  it('refuses to start without a database or a status queue', () => {
    // Act
    const noDatabase = () => loadReconcileConfig({ ...complete, DATABASE_URL: '' });
    const noQueue = () =>
      loadReconcileConfig({ ...complete, FORGE_GITHUB_STATUS_QUEUE_URL: undefined });

    // Assert
    expect(noDatabase).toThrow(/^DATABASE_URL: /);
    expect(noQueue).toThrow(/^FORGE_GITHUB_STATUS_QUEUE_URL: /);
  });
});
