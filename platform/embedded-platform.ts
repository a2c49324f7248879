import { Logger } from '@aws-lambda-powertools/logger';
import { JoseAuthenticator } from '../adapters/auth/jose-authenticator.js';
import { LocalOidcIssuer } from '../adapters/auth/local-oidc-issuer.js';
import { EmbeddedStatusEventSink } from '../adapters/embedded/embedded-status-event-sink.js';
import { createGitHubReporter } from '../adapters/github/create-github-reporter.js';
import { createAwsJobPlane } from '../adapters/job-plane/aws-job-plane.js';
import { openPostgres, type PostgresDatabase } from '../adapters/postgres/open-postgres.js';
import { PostgresRunRepository } from '../adapters/postgres/postgres-run-repository.js';
import type { AuthConfig } from '../config/auth-environment.js';
import type { GitHubConfig } from '../config/github-environment.js';
import { loadAwsJobPlaneConfig } from '../config/job-plane-environment.js';
import type { PostgresConfig } from '../config/postgres-environment.js';
import type { WorkflowConfig } from '../config/workflow-environment.js';
import { errorMessage } from '../core/errors.js';
import { GitHubStatusFanOut } from '../core/github/status-fan-out.js';
import type { RunStatusEvent } from '../core/contracts/status-events.js';
import type { JobPlane } from '../core/ports/job-plane.js';
import type { RunRepository } from '../core/ports/run-repository.js';
import type { StatusEventSink } from '../core/ports/status-event-sink.js';
import type { WorkflowEngine } from '../core/ports/workflow-engine.js';
import { EmbeddedPipeline } from '../engine/embedded-pipeline.js';
import { EmbeddedWorkflowEngine } from '../engine/embedded-workflow-engine.js';
import type { ApiDependencies } from '../functions/api/api-dependencies.js';
import { fieldsLogger, type FieldsLogger } from '../functions/fields-logger.js';
import { StreamReconciler } from '../functions/reconcile/stream-reconciler.js';
import { ApiHttpServer } from './api-http-server.js';

/** Options of {@link EmbeddedPlatform.start}. */
export interface EmbeddedPlatformOptions {
  /** `embedded`: job plane and worker pools in this process; `aws`: AWS or its emulators, workers elsewhere. */
  readonly mode: 'embedded' | 'aws';
  /** State of the embedded mode (blobs, repository cache, snapshots). */
  readonly dataDirectory: string;
  readonly port: number;
  readonly postgres: PostgresConfig;
  readonly auth: AuthConfig;
  readonly github: GitHubConfig;
  /** Which engine runs the runs: the in-process one (default) or Argo through a kubeconfig. */
  readonly workflow?: WorkflowConfig;
  /** Task jobs at once in the embedded pools. */
  readonly taskConcurrency?: number;
  /** Where the platform's own lines go (JSON lines, through Powertools' logger). */
  readonly logger?: Logger;
}

/**
 * The whole platform on one machine (DESIGN.md section 2): the API's handlers behind a local
 * HTTP server, Postgres (embedded unless `DATABASE_URL` says otherwise), the local OIDC
 * issuer, the in-process workflow engine, the reconciler on the job plane's change feed, and
 * the GitHub fan-out when a token is configured. In the embedded mode the job plane and both
 * worker pools run here too; pointed at the emulators (or AWS) the engine and reconciler use
 * that plane and separately started `forge-worker` processes do the work.
 */
export class EmbeddedPlatform {
  readonly url: string;
  readonly issuer: LocalOidcIssuer;
  readonly runs: PostgresRunRepository;
  readonly plane: JobPlane;
  readonly engine: WorkflowEngine;
  readonly #closers: (() => Promise<void>)[];
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    url: string;
    issuer: LocalOidcIssuer;
    runs: PostgresRunRepository;
    plane: JobPlane;
    engine: WorkflowEngine;
    closers: (() => Promise<void>)[];
  }) {
    this.url = parts.url;
    this.issuer = parts.issuer;
    this.runs = parts.runs;
    this.plane = parts.plane;
    this.engine = parts.engine;
    this.#closers = parts.closers;
  }

  /** Starts every part in order; whatever started is stopped again if a later part fails. */
  static async start(options: EmbeddedPlatformOptions): Promise<EmbeddedPlatform> {
    const logger = fieldsLogger(options.logger ?? new Logger({ serviceName: 'forge-platform' }));
    // Closed in reverse order of start: the server first, the database last.
    const closers: (() => Promise<void>)[] = [];
    const closeAll = async () => {
      for (const close of closers.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          logger.warn('a part of the platform did not close cleanly', {
            error: errorMessage(error),
          });
        }
      }
    };
    try {
      const database: PostgresDatabase = await openPostgres(options.postgres);
      closers.push(() => database.close());
      const runs = new PostgresRunRepository({ sql: database.sql });
      const issuer = await LocalOidcIssuer.start(options.auth.localIssuer);
      closers.push(() => issuer.close());

      let plane: JobPlane;
      let engine: WorkflowEngine;
      if (options.mode === 'embedded') {
        const pipeline = await EmbeddedPipeline.start({
          dataDirectory: options.dataDirectory,
          taskConcurrency: options.taskConcurrency,
        });
        closers.push(() => pipeline.close());
        plane = pipeline.plane;
        engine = pipeline.engine;
      } else {
        const awsPlane = await createAwsJobPlane(loadAwsJobPlaneConfig());
        closers.push(() => awsPlane.close());
        const embeddedEngine = new EmbeddedWorkflowEngine({ plane: awsPlane });
        closers.push(() => embeddedEngine.close());
        plane = awsPlane;
        engine = embeddedEngine;
      }
      const argo = options.workflow?.engine === 'argo' ? options.workflow.argo : undefined;
      if (argo !== undefined) {
        // The Kubernetes client takes seconds to load: only a platform that submits to Argo loads it.
        const { ArgoWorkflowEngine } =
          await import('../adapters/kubernetes/argo-workflow-engine.js');
        engine = ArgoWorkflowEngine.fromKubeConfig(argo.kubernetes, argo.settings);
      }

      const statusEvents = statusEventSink(options.github, logger);
      closers.push(() => statusEvents.close());
      const reconciler = new StreamReconciler({
        runs,
        results: plane.blobs.results,
        sink: statusEvents,
        logger,
      });
      if (argo === undefined) {
        await cancelOrphanedRuns(runs, logger);
      }
      const unsubscribe = plane.changes.subscribe(reconciler.handleBatch);
      closers.push(unsubscribe);

      const deps: ApiDependencies = {
        runs,
        engine,
        jobs: plane.jobs,
        logs: plane.blobs.logs,
        authenticator: JoseAuthenticator.fromConfig(options.auth),
        statusEvents,
        logger,
        ready: async () => {
          await database.sql`select 1`;
        },
      };
      const server = await ApiHttpServer.start({ deps, port: options.port });
      closers.push(() => server.close());
      return new EmbeddedPlatform({ url: server.url, issuer, runs, plane, engine, closers });
    } catch (error) {
      await closeAll();
      throw error;
    }
  }

  /** Stops the server, the reconciler, the engine and pools, the issuer, then the database. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const close of this.#closers.splice(0).reverse()) {
        try {
          await close();
        } catch {
          // Closing goes on: a part that fails to close must not keep the others open.
        }
      }
    })();
    return this.#closing;
  }
}

/**
 * The in-process engine keeps its runs in memory: runs a previous process left going will
 * never end. They are cancelled, with the reason, so that no run waits forever.
 */
async function cancelOrphanedRuns(runs: RunRepository, logger: FieldsLogger): Promise<void> {
  const cancelled = await runs.cancelUnfinishedRuns(
    'embedded-platform',
    'the platform stopped while the run was going on',
  );
  for (const runId of cancelled) {
    logger.warn('cancelled a run left going by a previous process', { runId });
  }
}

/** A sink that closes: the GitHub fan-out when credentials are configured, else a log line. */
interface ClosableSink extends StatusEventSink {
  close(): Promise<void>;
}

function statusEventSink(config: GitHubConfig, logger: FieldsLogger): ClosableSink {
  const reporter = createGitHubReporter(config, { logger });
  if (reporter === undefined) {
    return {
      publish(events: readonly RunStatusEvent[]) {
        for (const event of events) {
          logger.debug('status event (no GitHub token configured, not sent)', {
            runId: event.run_id,
            point: event.point,
            status: event.run_status,
          });
        }
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
  }
  return new EmbeddedStatusEventSink({
    delivery: new GitHubStatusFanOut({ reporter, logger }),
    logger,
  });
}
