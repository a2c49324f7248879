/**
 * Argo Workflows' JSON schema (v4.1, copied from the project's design folder into
 * `test/fixtures/`), compiled with Ajv's 2020-12 build, to check rendered workflows. The schema
 * types Kubernetes IntOrString fields as strings, and lets unknown properties through; the
 * `closed` variant refuses any property the schema does not name, so a misspelt field fails.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

const SCHEMA_PATH = new URL('../fixtures/argo-workflows-v4.1.schema.json', import.meta.url);
const WORKFLOW_DEFINITION = 'io.argoproj.workflow.v1alpha1.Workflow';

type JsonObject = Record<string, unknown>;

/** A validator of `Workflow` resources; `errors` explains the last refusal. */
export function workflowValidator(options: { closed: boolean }): ValidateFunction {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as JsonObject;
  if (options.closed) closeObjects(schema['definitions'] as JsonObject);
  const ajv = new Ajv2020({
    strict: false,
    validateFormats: false,
    allErrors: true,
    logger: false,
  });
  ajv.addSchema(schema, 'argo');
  return ajv.compile({ $ref: `argo#/definitions/${WORKFLOW_DEFINITION}` });
}

/** `additionalProperties: false` on every object definition that lists its properties. */
function closeObjects(definitions: JsonObject): void {
  for (const definition of Object.values(definitions) as JsonObject[]) {
    if (
      definition['properties'] !== undefined &&
      definition['additionalProperties'] === undefined
    ) {
      definition['additionalProperties'] = false;
    }
  }
}
