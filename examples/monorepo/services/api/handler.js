import { greet } from '../../libs/greeting/index.js';

/** Answers `GET /hello?name=...` of the sample API. */
export function handle(query) {
  try {
    return { status: 200, body: { message: greet(query.name ?? 'world') } };
  } catch (error) {
    return { status: 400, body: { error: error.message } };
  }
}
