import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ErrorCode, errorBody } from '../../core/contracts/api.js';
import { errorMessage } from '../../core/errors.js';
import { DEFAULT_MAX_BODY_BYTES, type ApiDependencies } from './api-dependencies.js';
import { toErrorResponse } from './api-error.js';
import { requestFromEvent, type ApiRequest, type ApiResponse } from './api-request.js';
import { API_ROUTES, type ApiRoute } from './api-routes.js';

/** The API's Lambda handler: API Gateway HTTP API events in, JSON responses out. */
export type ApiHandler = middy.MiddyfiedHandler<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2
>;

/** Options of {@link createApiHandler}. */
export interface ApiHandlerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The API as one middy handler: Powertools' logger gets the invocation's context and the
 * metrics are flushed after every invocation; routing, authentication, validation and the
 * error body live in {@link handleApiRequest}, which the local server calls the same way.
 */
export function createApiHandler(deps: ApiDependencies, options: ApiHandlerOptions): ApiHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(options.logger, { resetKeys: true }))
    .use(logMetrics(options.metrics))
    .handler((event) => handleApiRequest(requestFromEvent(event), deps, options.metrics));
}

/**
 * Answers one request; never throws. The body size is checked first (413), then the route
 * (404), the caller's token for the route's kind of caller (401, 403), and the route itself;
 * whatever it throws becomes the standard error body (see `toErrorResponse`).
 */
export async function handleApiRequest(
  request: ApiRequest,
  deps: ApiDependencies,
  metrics?: Metrics,
): Promise<APIGatewayProxyStructuredResultV2> {
  let response: ApiResponse;
  let routeName = 'unknown';
  try {
    const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const size = request.body === undefined ? 0 : Buffer.byteLength(request.body);
    const match = matchRoute(request);
    if (size > limit) {
      response = {
        statusCode: 413,
        body: errorBody(
          ErrorCode.payloadTooLarge,
          `the body is ${size} bytes; at most ${limit} are accepted`,
          {
            limit_bytes: limit,
          },
        ),
      };
    } else if (match === undefined) {
      response = {
        statusCode: 404,
        body: errorBody(ErrorCode.notFound, `no route for ${request.method} ${request.path}`),
      };
    } else {
      routeName = `${match.route.method} ${match.route.path}`;
      const principal =
        match.route.caller === undefined
          ? undefined
          : await deps.authenticator.authenticate(
              request.headers.authorization,
              match.route.caller,
            );
      response = await match.route.handle({ request, params: match.params, principal, deps });
    }
  } catch (error) {
    const mapped = toErrorResponse(error);
    if (mapped.internal) {
      deps.logger.error('request failed', {
        route: routeName,
        error: errorMessage(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
    response = { statusCode: mapped.statusCode, body: mapped.body };
  }
  if (metrics !== undefined) {
    metrics.addMetric(
      response.statusCode >= 500 ? 'ServerErrors' : 'Requests',
      MetricUnit.Count,
      1,
    );
    if (routeName === 'POST /v1/runs' && response.statusCode === 201) {
      metrics.addMetric('RunsCreated', MetricUnit.Count, 1);
    }
  }
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(response.body),
  };
}

interface RouteMatch {
  readonly route: ApiRoute;
  readonly params: Record<string, string>;
}

function matchRoute(request: ApiRequest): RouteMatch | undefined {
  const segments = request.path.split('/').filter((segment) => segment !== '');
  for (const route of API_ROUTES) {
    if (route.method !== request.method) continue;
    const pattern = route.path.split('/').filter((segment) => segment !== '');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, index) => {
      const segment = segments[index] ?? '';
      if (part.startsWith(':')) {
        params[part.slice(1)] = safeDecode(segment);
        return true;
      }
      return part === segment;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
