import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** A request as the routes see it, whatever carried it (API Gateway or the local server). */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The body as text (decoded when API Gateway sent it base64-encoded). */
  readonly body: string | undefined;
}

/** What a route answers; the body is sent as JSON. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** The request of an API Gateway HTTP API (payload 2.0) event. */
export function requestFromEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    query,
    body,
  };
}
