import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { sdkClientConfig } from '../../adapters/aws/aws-client-config.js';
import { SecretsManagerSecretStore } from '../../adapters/aws/secrets-manager-secret-store.js';
import { createGitHubReporter } from '../../adapters/github/create-github-reporter.js';
import { ConfigurationError } from '../../config/environment.js';
import { loadGitHubConfig } from '../../config/github-environment.js';
import { GitHubStatusFanOut, type FanOutLogger } from '../../core/github/status-fan-out.js';
import { createGitHubStatusHandler } from './github-status-handler.js';

const powertoolsLogger = new Logger({ serviceName: 'forge-github-status' });
const logger: FanOutLogger = {
  info: (message, fields = {}) => powertoolsLogger.info(message, fields),
  warn: (message, fields = {}) => powertoolsLogger.warn(message, fields),
  error: (message, fields = {}) => powertoolsLogger.error(message, fields),
};
const metrics = new Metrics({ namespace: 'CatalystForge', serviceName: 'forge-github-status' });
const config = loadGitHubConfig();
const secretStore =
  config.credentials?.kind === 'secret'
    ? new SecretsManagerSecretStore({ client: new SecretsManagerClient(sdkClientConfig()) })
    : undefined;
const reporter = createGitHubReporter(config, { secretStore, logger });
if (reporter === undefined) {
  throw new ConfigurationError('FORGE_GITHUB_TOKEN', 'set it or FORGE_GITHUB_TOKEN_SECRET');
}
const fanOut = new GitHubStatusFanOut({ reporter, logger });

/**
 * The GitHub status fan-out Lambda: SQS batches of `RunStatusEvent`s in, commit statuses and
 * pull-request summaries out, a partial batch response back (see `createGitHubStatusHandler`).
 * Configuration is read once at cold start (`FORGE_GITHUB_*`); the event source mapping needs
 * `ReportBatchItemFailures`, and the function's timeout should exceed
 * `FORGE_GITHUB_RATE_LIMIT_MAX_WAIT` by a margin.
 */
export const handler = middy(createGitHubStatusHandler({ delivery: fanOut, logger, metrics }))
  .use(injectLambdaContext(powertoolsLogger))
  .use(logMetrics(metrics));
