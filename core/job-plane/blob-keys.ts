/**
 * The key layout of the result and log buckets (DESIGN.md section 5). Every writer and reader
 * builds keys here, so the layout has one definition.
 */

/** `<run>/discovery.json` in the results bucket. */
export function discoveryResultKey(runId: string): string {
  return `${runId}/discovery.json`;
}

/** `<run>/phases/<phase>/<project>/<step>.json` in the results bucket. */
export function stepResultKey(runId: string, phase: string, project: string, step: string): string {
  return `${runId}/phases/${phase}/${project}/${step}.json`;
}

/** `<run>/phases/<phase>/<project>/`: where a task job's step results are. */
export function taskResultPrefix(runId: string, phase: string, project: string): string {
  return `${runId}/phases/${phase}/${project}/`;
}

/** `<run>/<phase>/<project>/<step>.log` in the logs bucket, appended while the step runs. */
export function stepLogKey(runId: string, phase: string, project: string, step: string): string {
  return `${runId}/${phase}/${project}/${step}.log`;
}

/** The `s3://bucket/key` location recorded in job records. */
export function blobLocation(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Splits an `s3://bucket/key` location; `undefined` when it is not one. */
export function parseBlobLocation(location: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}
